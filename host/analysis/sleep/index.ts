// Sleep scoring from EEG/EMG, micro-arousals, hypnogram import and agreement (see README.md).
export * from './errors.ts';
export * from './gmm.ts';
export * from './bands.ts';
export * from './score.ts';
export * from './spectrum.ts';
export * from './hypnogram.ts';

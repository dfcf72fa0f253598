// hdmf-common 1.8.0 (complete: base, table, sparse) and the part of NWB core
// 2.9.0 that fiberrig's files use (see CORE_SUBSET_NOTE). Facts from the
// published schemas, docs in fiberrig's words.
import { attr, type DatasetSpec, type GroupSpec, type NamespaceSpec, opt, ref } from './spec.ts';

const ANY_1_TO_4D = [[null], [null, null], [null, null, null], [null, null, null, null]];

// ------------------------------------------------------------ hdmf-common

const hdmfBase = {
  name: 'base',
  datasets: [{ data_type_def: 'Data', doc: 'Abstract base of every typed dataset.' }] as DatasetSpec[],
  groups: [
    { data_type_def: 'Container', doc: 'Abstract base of every typed group.' },
    {
      data_type_def: 'SimpleMultiContainer', data_type_inc: 'Container', doc: 'A group that holds any typed datasets and groups.',
      datasets: [{ data_type_inc: 'Data', quantity: '*', doc: 'Datasets held here.' }],
      groups: [{ data_type_inc: 'Container', quantity: '*', doc: 'Groups held here.' }],
    },
  ] as GroupSpec[],
};

const hdmfTable = {
  name: 'table',
  datasets: [
    {
      data_type_def: 'VectorData', data_type_inc: 'Data', shape: ANY_1_TO_4D,
      doc: 'One column of a DynamicTable (ragged when paired with a VectorIndex).',
      attributes: [attr('description', 'text', 'What the column holds.')],
    },
    {
      data_type_def: 'VectorIndex', data_type_inc: 'VectorData', dtype: 'uint8', shape: [null],
      doc: 'End offsets into a VectorData column, one per row, making the column ragged.',
      attributes: [attr('target', ref('VectorData'), 'The column this index splits into rows.')],
    },
    {
      data_type_def: 'ElementIdentifiers', data_type_inc: 'Data', default_name: 'element_id', dtype: 'int', shape: [null],
      doc: 'Row identifiers of a table.',
    },
    {
      data_type_def: 'DynamicTableRegion', data_type_inc: 'VectorData', dtype: 'int', shape: [null],
      doc: 'Row indices into another DynamicTable.',
      attributes: [
        attr('table', ref('DynamicTable'), 'The table whose rows are selected.'),
        attr('description', 'text', 'What the selected rows mean here.'),
      ],
    },
  ] as DatasetSpec[],
  groups: [
    {
      data_type_def: 'DynamicTable', data_type_inc: 'Container',
      doc: 'A table stored by column: an id dataset plus VectorData columns of equal length.',
      attributes: [
        attr('colnames', 'text', 'Column names, in display order.', { shape: [null] }),
        attr('description', 'text', 'What the table holds.'),
      ],
      datasets: [
        { name: 'id', data_type_inc: 'ElementIdentifiers', dtype: 'int', shape: [null], doc: 'One identifier per row.' },
        { data_type_inc: 'VectorData', quantity: '*', doc: 'The columns.' },
      ],
    },
    {
      data_type_def: 'AlignedDynamicTable', data_type_inc: 'DynamicTable',
      doc: 'A DynamicTable with row-aligned sub-tables, one per category.',
      attributes: [attr('categories', 'text', 'Names of the sub-tables, in order.', { shape: [null] })],
      groups: [{ data_type_inc: 'DynamicTable', quantity: '*', doc: 'One sub-table per category, as many rows as the main table.' }],
    },
  ] as GroupSpec[],
};

const hdmfSparse = {
  name: 'sparse',
  groups: [
    {
      data_type_def: 'CSRMatrix', data_type_inc: 'Container', doc: 'A sparse matrix in compressed sparse row form.',
      attributes: [attr('shape', 'uint', 'Rows and columns of the full matrix.', { shape: [2] })],
      datasets: [
        { name: 'indices', dtype: 'uint', shape: [null], doc: 'Column index of each stored value.' },
        { name: 'indptr', dtype: 'uint', shape: [null], doc: 'Where each row starts in indices/data (plus one final end).' },
        { name: 'data', shape: [null], doc: 'The stored values.' },
      ],
    },
  ] as GroupSpec[],
};

export const HDMF_COMMON: NamespaceSpec = {
  name: 'hdmf-common',
  version: '1.8.0',
  full_name: 'HDMF Common',
  doc: 'Common data structures of HDMF (tables, base types, sparse matrices), as transcribed by fiberrig.',
  author: ['Andrew Tritt', 'Oliver Ruebel', 'Ryan Ly', 'Ben Dichter'],
  contact: ['ajtritt@lbl.gov', 'oruebel@lbl.gov', 'rly@lbl.gov', 'bdichter@lbl.gov'],
  includes: [],
  sources: [hdmfBase, hdmfTable, hdmfSparse],
};

// ------------------------------------------------------------ NWB core (subset)

const nwbBase = {
  name: 'nwb.base',
  datasets: [
    { neurodata_type_def: 'NWBData', neurodata_type_inc: 'Data', doc: 'Abstract base of NWB datasets.' },
    {
      neurodata_type_def: 'TimeSeriesReferenceVectorData', neurodata_type_inc: 'VectorData', default_name: 'timeseries',
      doc: 'A column of (first sample, sample count, TimeSeries) triples.',
      dtype: [
        { name: 'idx_start', dtype: 'int32', doc: 'First sample of the span in the referenced series.' },
        { name: 'count', dtype: 'int32', doc: 'Number of samples in the span.' },
        { name: 'timeseries', dtype: ref('TimeSeries'), doc: 'The referenced series.' },
      ],
    },
  ] as DatasetSpec[],
  groups: [
    { neurodata_type_def: 'NWBContainer', neurodata_type_inc: 'Container', doc: 'Abstract base of NWB groups.' },
    { neurodata_type_def: 'NWBDataInterface', neurodata_type_inc: 'NWBContainer', doc: 'Abstract base of groups that hold data (rather than metadata).' },
    {
      neurodata_type_def: 'TimeSeries', neurodata_type_inc: 'NWBDataInterface', doc: 'Samples over time, with either a start time and rate or one timestamp per sample.',
      attributes: [
        opt('description', 'text', 'What the series holds.', { default_value: 'no description' }),
        opt('comments', 'text', 'Free-text remarks on the series.', { default_value: 'no comments' }),
      ],
      datasets: [
        {
          name: 'data', shape: ANY_1_TO_4D, doc: 'The samples; the first axis is time.',
          attributes: [
            opt('conversion', 'float32', 'Factor from stored values to `unit`.', { default_value: 1.0 }),
            opt('offset', 'float32', 'Added after scaling by conversion, to get `unit`.', { default_value: 0.0 }),
            opt('resolution', 'float32', 'Smallest meaningful change, in `unit` (-1 if unknown).', { default_value: -1.0 }),
            attr('unit', 'text', 'Unit of data × conversion + offset.'),
            opt('continuity', 'text', 'continuous, instantaneous or step.'),
          ],
        },
        {
          name: 'starting_time', dtype: 'float64', quantity: '?', doc: 'Time of the first sample (s), for regularly sampled series.',
          attributes: [attr('rate', 'float32', 'Sampling rate (Hz).'), attr('unit', 'text', 'Always seconds.', { value: 'seconds' })],
        },
        {
          name: 'timestamps', dtype: 'float64', shape: [null], quantity: '?', doc: 'Time of each sample (s).',
          attributes: [attr('interval', 'int32', 'Always 1.', { value: 1 }), attr('unit', 'text', 'Always seconds.', { value: 'seconds' })],
        },
        { name: 'control', dtype: 'uint8', shape: [null], quantity: '?', doc: 'A label per sample, for selecting samples.' },
        { name: 'control_description', dtype: 'text', shape: [null], quantity: '?', doc: 'Meaning of each control label.' },
      ],
      groups: [{ name: 'sync', quantity: '?', doc: 'Acquisition-system timing information.' }],
    },
    {
      neurodata_type_def: 'ProcessingModule', neurodata_type_inc: 'NWBContainer', doc: 'Processed data of one kind.',
      attributes: [attr('description', 'text', 'What processing produced the contents.')],
      groups: [
        { neurodata_type_inc: 'NWBDataInterface', quantity: '*', doc: 'Processed data.' },
        { neurodata_type_inc: 'DynamicTable', quantity: '*', doc: 'Processed tables.' },
      ],
    },
  ] as GroupSpec[],
};

const nwbDevice = {
  name: 'nwb.device',
  groups: [
    {
      neurodata_type_def: 'Device', neurodata_type_inc: 'NWBContainer', doc: 'One piece of acquisition hardware.',
      attributes: [
        opt('description', 'text', 'Free-text description.'),
        opt('manufacturer', 'text', 'Who made it.'),
        opt('model_number', 'text', 'Model or part number (superseded by the model link).'),
        opt('model_name', 'text', 'Model name (superseded by the model link).'),
        opt('serial_number', 'text', 'Serial number of this unit.'),
      ],
      links: [{ name: 'model', target_type: 'DeviceModel', quantity: '?', doc: 'The model this device is an instance of.' }],
    },
    {
      neurodata_type_def: 'DeviceModel', neurodata_type_inc: 'NWBContainer', doc: 'A device model, shared by the devices that are instances of it.',
      attributes: [
        attr('manufacturer', 'text', 'Who makes the model.'),
        opt('model_number', 'text', 'Model or part number.'),
        opt('description', 'text', 'Free-text description.'),
      ],
    },
  ] as GroupSpec[],
};

const nwbEpoch = {
  name: 'nwb.epoch',
  groups: [
    {
      neurodata_type_def: 'TimeIntervals', neurodata_type_inc: 'DynamicTable', doc: 'A table of time spans.',
      datasets: [
        { name: 'start_time', neurodata_type_inc: 'VectorData', dtype: 'float32', doc: 'Start of each span (s).' },
        { name: 'stop_time', neurodata_type_inc: 'VectorData', dtype: 'float32', doc: 'End of each span (s).' },
        { name: 'tags', neurodata_type_inc: 'VectorData', dtype: 'text', quantity: '?', doc: 'Labels of each span.' },
        { name: 'tags_index', neurodata_type_inc: 'VectorIndex', quantity: '?', doc: 'Splits tags into rows.' },
        { name: 'timeseries', neurodata_type_inc: 'TimeSeriesReferenceVectorData', quantity: '?', doc: 'Series samples within each span.' },
        { name: 'timeseries_index', neurodata_type_inc: 'VectorIndex', quantity: '?', doc: 'Splits timeseries into rows.' },
      ],
    },
  ] as GroupSpec[],
};

// nwb.ecephys: only the three types fiberrig writes for its aux (EEG/EMG) inputs
const optionalColumn = (name: string, dtype: string, doc: string): DatasetSpec => ({ name, neurodata_type_inc: 'VectorData', dtype, quantity: '?', doc });

const nwbEcephys = {
  name: 'nwb.ecephys',
  groups: [
    {
      neurodata_type_def: 'ElectricalSeries', neurodata_type_inc: 'TimeSeries', doc: 'Voltages recorded from electrodes; data x conversion (x channel_conversion) + offset is in volts.',
      attributes: [opt('filtering', 'text', 'Filters applied to every channel of the data.')],
      datasets: [
        {
          name: 'data', dtype: 'numeric', shape: [[null], [null, null], [null, null, null]], doc: 'The voltages; axes: time, then channel (and sample).',
          attributes: [attr('unit', 'text', 'Always volts (after conversion, channel_conversion and offset).', { value: 'volts' })],
        },
        { name: 'electrodes', neurodata_type_inc: 'DynamicTableRegion', doc: 'The rows of the electrodes table each channel was recorded from.' },
        {
          name: 'channel_conversion', dtype: 'float32', shape: [null], quantity: '?', doc: 'A factor per channel, applied along the channel axis on top of conversion.',
          attributes: [attr('axis', 'int32', 'The data axis the factors apply to: always 1.', { value: 1 })],
        },
      ],
    },
    {
      neurodata_type_def: 'ElectrodeGroup', neurodata_type_inc: 'NWBContainer', doc: 'Electrodes that belong together physically (one probe, shank or headstage input).',
      attributes: [attr('description', 'text', 'What the group is.'), attr('location', 'text', 'Where the electrodes of the group are.')],
      datasets: [
        {
          name: 'position', quantity: '?', doc: 'Coordinates of the group.',
          dtype: [
            { name: 'x', dtype: 'float32', doc: 'x' },
            { name: 'y', dtype: 'float32', doc: 'y' },
            { name: 'z', dtype: 'float32', doc: 'z' },
          ],
        },
      ],
      links: [{ name: 'device', target_type: 'Device', doc: 'The device that recorded the group.' }],
    },
    {
      neurodata_type_def: 'ElectrodesTable', neurodata_type_inc: 'DynamicTable', doc: 'One row per electrode (channel) recorded from.',
      datasets: [
        { name: 'location', neurodata_type_inc: 'VectorData', dtype: 'text', doc: 'Where the electrode is.' },
        { name: 'group', neurodata_type_inc: 'VectorData', dtype: ref('ElectrodeGroup'), doc: 'The ElectrodeGroup of the electrode.' },
        optionalColumn('group_name', 'text', 'The name of that ElectrodeGroup.'),
        optionalColumn('x', 'float32', 'x coordinate in the brain.'),
        optionalColumn('y', 'float32', 'y coordinate in the brain.'),
        optionalColumn('z', 'float32', 'z coordinate in the brain.'),
        optionalColumn('imp', 'float32', 'Impedance (ohms).'),
        optionalColumn('filtering', 'text', 'Hardware filters of the channel.'),
        optionalColumn('rel_x', 'float32', 'x coordinate within the group.'),
        optionalColumn('rel_y', 'float32', 'y coordinate within the group.'),
        optionalColumn('rel_z', 'float32', 'z coordinate within the group.'),
        optionalColumn('reference', 'text', 'The reference electrode or referencing scheme.'),
      ],
    },
  ] as GroupSpec[],
};

const optionalText = (name: string, doc: string, shape?: Array<number | null>): DatasetSpec => ({ name, dtype: 'text', quantity: '?', doc, ...(shape ? { shape } : {}) });

const nwbFile = {
  name: 'nwb.file',
  groups: [
    {
      neurodata_type_def: 'NWBFile', neurodata_type_inc: 'NWBContainer', name: 'root', doc: 'The root of an NWB file.',
      attributes: [attr('nwb_version', 'text', 'NWB version of the file.', { value: '2.9.0' })],
      datasets: [
        { name: 'file_create_date', dtype: 'isodatetime', shape: [null], doc: 'When the file was created (and modified).' },
        { name: 'identifier', dtype: 'text', doc: 'A unique identifier of this file.' },
        { name: 'session_description', dtype: 'text', doc: 'What the session was.' },
        { name: 'session_start_time', dtype: 'isodatetime', doc: 'When the session started.' },
        { name: 'timestamps_reference_time', dtype: 'isodatetime', doc: 'Time zero of every timestamp in the file.' },
      ],
      groups: [
        {
          name: 'acquisition', doc: 'Data as acquired.',
          groups: [{ neurodata_type_inc: 'NWBDataInterface', quantity: '*', doc: 'Acquired series.' }, { neurodata_type_inc: 'DynamicTable', quantity: '*', doc: 'Acquired tables.' }],
        },
        {
          name: 'analysis', doc: 'Lab-specific analysis results.',
          groups: [{ neurodata_type_inc: 'NWBContainer', quantity: '*', doc: 'Analysis results.' }, { neurodata_type_inc: 'DynamicTable', quantity: '*', doc: 'Analysis tables.' }],
        },
        {
          name: 'scratch', quantity: '?', doc: 'Temporary notes and results.',
          groups: [{ neurodata_type_inc: 'NWBContainer', quantity: '*', doc: 'Scratch containers.' }, { neurodata_type_inc: 'DynamicTable', quantity: '*', doc: 'Scratch tables.' }],
        },
        { name: 'processing', doc: 'Processed data.', groups: [{ neurodata_type_inc: 'ProcessingModule', quantity: '*', doc: 'One module per kind of processing.' }] },
        {
          name: 'stimulus', doc: 'Stimuli presented.',
          groups: [
            {
              name: 'presentation', doc: 'Stimuli as presented.',
              groups: [
                { neurodata_type_inc: 'NWBDataInterface', quantity: '*', doc: 'Presented stimuli.' },
                { neurodata_type_inc: 'DynamicTable', quantity: '*', doc: 'Stimulus tables.' },
                { neurodata_type_inc: 'TimeSeries', quantity: '*', doc: 'Stimulus series.' },
              ],
            },
            { name: 'templates', doc: 'Stimulus templates.', groups: [{ neurodata_type_inc: 'TimeSeries', quantity: '*', doc: 'Template series.' }] },
          ],
        },
        {
          name: 'general', doc: 'Metadata of the experiment.',
          datasets: [
            optionalText('data_collection', 'How the data were collected.'),
            optionalText('experiment_description', 'What the experiment was.'),
            optionalText('experimenter', 'Who did it.', [null]),
            optionalText('institution', 'Where.'),
            optionalText('keywords', 'Search terms.', [null]),
            optionalText('lab', 'Which lab.'),
            optionalText('notes', 'Notes on the experiment.'),
            optionalText('pharmacology', 'Drugs given.'),
            optionalText('protocol', 'Protocol or approval identifier.'),
            optionalText('related_publications', 'Related papers.', [null]),
            optionalText('session_id', 'Lab-specific session id.'),
            optionalText('slices', 'Slice preparation.'),
            { name: 'source_script', dtype: 'text', quantity: '?', doc: 'Script that made the file.', attributes: [attr('file_name', 'text', 'Its file name.')] },
            { name: 'was_generated_by', dtype: 'text', shape: [null, 2], quantity: '?', doc: 'Software (name, version) that made the file.' },
            optionalText('stimulus', 'Stimuli used.'),
            optionalText('surgery', 'Surgical procedures.'),
            optionalText('virus', 'Viruses used.'),
          ],
          groups: [
            { neurodata_type_inc: 'LabMetaData', quantity: '*', doc: 'Extension metadata.' },
            { name: 'devices', quantity: '?', doc: 'The devices used.', groups: [{ neurodata_type_inc: 'Device', quantity: '*', doc: 'A device.' }] },
            { name: 'subject', neurodata_type_inc: 'Subject', quantity: '?', doc: 'The subject.' },
            {
              name: 'extracellular_ephys', quantity: '?', doc: 'Electrode metadata of extracellular recordings.',
              groups: [
                { neurodata_type_inc: 'ElectrodeGroup', quantity: '*', doc: 'An electrode group.' },
                { name: 'electrodes', neurodata_type_inc: 'ElectrodesTable', quantity: '?', doc: 'Every electrode recorded from.' },
              ],
            },
          ],
        },
        {
          name: 'intervals', quantity: '?', doc: 'Time spans of interest.',
          groups: [
            { name: 'epochs', neurodata_type_inc: 'TimeIntervals', quantity: '?', doc: 'Experimental epochs.' },
            { name: 'trials', neurodata_type_inc: 'TimeIntervals', quantity: '?', doc: 'Trials.' },
            { name: 'invalid_times', neurodata_type_inc: 'TimeIntervals', quantity: '?', doc: 'Spans to leave out of analysis.' },
            { neurodata_type_inc: 'TimeIntervals', quantity: '*', doc: 'Other span tables.' },
          ],
        },
      ],
    },
    { neurodata_type_def: 'LabMetaData', neurodata_type_inc: 'NWBContainer', doc: 'Base of metadata groups defined by extensions.' },
    {
      neurodata_type_def: 'Subject', neurodata_type_inc: 'NWBContainer', doc: 'The animal recorded.',
      datasets: [
        { name: 'age', dtype: 'text', quantity: '?', doc: 'Age (ISO 8601 duration).', attributes: [opt('reference', 'text', 'birth or gestational.', { default_value: 'birth' })] },
        { name: 'date_of_birth', dtype: 'isodatetime', quantity: '?', doc: 'Date of birth.' },
        optionalText('description', 'Free-text description.'),
        optionalText('genotype', 'Genotype.'),
        optionalText('sex', 'Sex.'),
        optionalText('species', 'Species.'),
        optionalText('strain', 'Strain.'),
        optionalText('subject_id', 'Lab identifier of the animal.'),
        optionalText('weight', 'Weight at the session.'),
      ],
    },
  ] as GroupSpec[],
};

/**
 * What of core 2.9.0 is cached, and what is not (repeated in host/export/README.md).
 */
export const CORE_SUBSET_NOTE =
  'fiberrig caches a subset of NWB core 2.9.0: the sources nwb.base (NWBData, TimeSeriesReferenceVectorData, NWBContainer, ' +
  'NWBDataInterface, TimeSeries, ProcessingModule), nwb.device (Device, DeviceModel), nwb.epoch (TimeIntervals) and nwb.file ' +
  '(NWBFile, LabMetaData, Subject) and, of nwb.ecephys, ElectricalSeries, ElectrodeGroup and ElectrodesTable; NWBFile is cached ' +
  'without the members whose types live in sources or parts that are not cached (general/intracellular_ephys, optogenetics, ' +
  'optophysiology, units, scratch data, stimulus template images). Not cached: nwb.image, nwb.misc, nwb.behavior, the other types ' +
  'of nwb.ecephys (SpikeEventSeries, FeatureExtraction, EventDetection, EventWaveform, FilteredEphys, LFP, ClusterWaveforms, Clustering), ' +
  'nwb.icephys, nwb.ogen, nwb.ophys, nwb.retinotopy and the image types of nwb.base. ' +
  'pynwb ignores a cached core when it has its own; a reader that relies on the cached core gets every type this file uses.';

export const NWB_CORE: NamespaceSpec = {
  name: 'core',
  version: '2.9.0',
  full_name: 'NWB core',
  doc: `NWB core (subset transcribed by fiberrig). ${CORE_SUBSET_NOTE}`,
  author: ['Andrew Tritt', 'Oliver Ruebel', 'Ryan Ly', 'Ben Dichter', 'Keith Godfrey', 'Jeff Teeters'],
  contact: ['ajtritt@lbl.gov', 'oruebel@lbl.gov', 'rly@lbl.gov', 'bdichter@lbl.gov', 'keithg@alleninstitute.org', 'jteeters@berkeley.edu'],
  includes: [{ namespace: 'hdmf-common' }],
  sources: [nwbBase, nwbDevice, nwbEpoch, nwbEcephys, nwbFile],
};

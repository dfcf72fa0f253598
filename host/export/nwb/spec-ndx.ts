// The two extensions the NWB export targets, complete, so that a reader
// without them installed can open the file from its cached spec:
// ndx-ophys-devices 0.3.1 and ndx-fiber-photometry 0.2.4. Facts from the
// published schemas, docs in fiberrig's words.
import { attr, type GroupSpec, type NamespaceSpec, opt, ref } from './spec.ts';

const f = 'float';
const t = 'text';
const range2 = { shape: [2] };

const insertionAngles = (what: string): ReturnType<typeof opt>[] => [
  opt(`${what}_yaw_in_deg`, f, 'Yaw (about the dorsal-ventral axis; + turns the nose right), degrees; applied first.'),
  opt(`${what}_pitch_in_deg`, f, 'Pitch (about the left-right axis; + turns the nose up), degrees; applied second.'),
  opt(`${what}_roll_in_deg`, f, 'Roll (about the anterior-posterior axis; + lowers the right side), degrees; applied last.'),
];

const ophysDevicesTypes: GroupSpec[] = [
  {
    neurodata_type_def: 'ExcitationSourceModel', neurodata_type_inc: 'DeviceModel', doc: 'Model of a light source used for excitation.',
    attributes: [
      attr('source_type', t, 'Kind of source, e.g. LED, gas laser, solid-state laser.'),
      attr('excitation_mode', t, 'one-photon, two-photon, three-photon or other.'),
      opt('wavelength_range_in_nm', f, 'Shortest and longest wavelength the source can emit (nm).', range2),
    ],
  },
  {
    neurodata_type_def: 'ExcitationSource', neurodata_type_inc: 'Device', doc: 'One excitation light source.',
    attributes: [
      opt('power_in_W', f, 'Power delivered (W).'),
      opt('intensity_in_W_per_m2', f, 'Irradiance at the sample (W/m²).'),
      opt('exposure_time_in_s', f, 'How long the sample was lit (s).'),
    ],
  },
  {
    neurodata_type_def: 'PulsedExcitationSource', neurodata_type_inc: 'ExcitationSource', doc: 'An excitation source driven in pulses.',
    attributes: [
      attr('pulse_rate_in_Hz', f, 'Pulse rate (Hz).'),
      opt('peak_power_in_W', f, 'Power at the peak of a pulse (W).'),
      opt('peak_pulse_energy_in_J', f, 'Energy of one pulse (J).'),
    ],
  },
  {
    neurodata_type_def: 'PhotodetectorModel', neurodata_type_inc: 'DeviceModel', doc: 'Model of a light detector.',
    attributes: [
      attr('detector_type', t, 'Detector technology, e.g. photodiode, PMT, CMOS.'),
      opt('wavelength_range_in_nm', f, 'Shortest and longest detectable wavelength (nm).', range2),
      opt('gain', f, 'Detector gain.'),
      opt('gain_unit', t, 'Unit of the gain.'),
    ],
  },
  { neurodata_type_def: 'Photodetector', neurodata_type_inc: 'Device', doc: 'One light detector.' },
  {
    neurodata_type_def: 'DichroicMirrorModel', neurodata_type_inc: 'DeviceModel', doc: 'Model of a dichroic mirror.',
    attributes: [
      opt('cut_on_wavelength_in_nm', f, 'Where transmission starts to exceed reflection (nm).'),
      opt('cut_off_wavelength_in_nm', f, 'Where reflection takes over again, for multi-band mirrors (nm).'),
      opt('reflection_band_in_nm', f, 'Start and end of the mainly reflected band (nm).', range2),
      opt('transmission_band_in_nm', f, 'Start and end of the mainly transmitted band (nm).', range2),
      opt('angle_of_incidence_in_degrees', f, 'Design angle of incidence (degrees).'),
    ],
  },
  { neurodata_type_def: 'DichroicMirror', neurodata_type_inc: 'Device', doc: 'One dichroic mirror.' },
  {
    neurodata_type_def: 'OpticalFilterModel', neurodata_type_inc: 'DeviceModel', doc: 'Model of an optical filter.',
    attributes: [attr('filter_type', t, 'Bandpass, Bandstop, Longpass or Shortpass.')],
  },
  { neurodata_type_def: 'OpticalFilter', neurodata_type_inc: 'Device', doc: 'One optical filter.' },
  {
    neurodata_type_def: 'BandOpticalFilterModel', neurodata_type_inc: 'OpticalFilterModel', doc: 'Model of a band-pass or band-stop filter.',
    attributes: [
      attr('center_wavelength_in_nm', f, 'Centre of the band (nm).'),
      attr('bandwidth_in_nm', f, 'Full width at half maximum of the band (nm).'),
    ],
  },
  { neurodata_type_def: 'BandOpticalFilter', neurodata_type_inc: 'OpticalFilter', doc: 'One band-pass or band-stop filter.' },
  {
    neurodata_type_def: 'EdgeOpticalFilterModel', neurodata_type_inc: 'OpticalFilterModel', doc: 'Model of a long-pass or short-pass filter.',
    attributes: [
      attr('cut_wavelength_in_nm', f, 'Wavelength of half the peak transmission (nm).'),
      opt('slope_in_percent_cut_wavelength', f, 'Steepness of the edge, as a percentage of the cut wavelength.'),
      opt('slope_starting_transmission_in_percent', f, 'Transmission (%) where the slope is measured from.'),
      opt('slope_ending_transmission_in_percent', f, 'Transmission (%) where the slope is measured to.'),
    ],
  },
  { neurodata_type_def: 'EdgeOpticalFilter', neurodata_type_inc: 'OpticalFilter', doc: 'One long-pass or short-pass filter.' },
  {
    neurodata_type_def: 'OpticalFiberModel', neurodata_type_inc: 'DeviceModel', doc: 'Model of an optical fiber.',
    attributes: [
      attr('numerical_aperture', f, 'Numerical aperture.'),
      opt('core_diameter_in_um', f, 'Core diameter (µm).'),
      opt('active_length_in_mm', f, 'Emitting length of a tapered fiber (mm).'),
      opt('ferrule_name', t, 'Product name of the ferrule.'),
      opt('ferrule_model', t, 'Model or product id of the ferrule.'),
      opt('ferrule_diameter_in_mm', f, 'Ferrule diameter (mm).'),
    ],
  },
  {
    neurodata_type_def: 'FiberInsertion', neurodata_type_inc: 'NWBContainer', default_name: 'fiber_insertion', doc: 'Where and how a fiber entered the brain.',
    attributes: [
      opt('insertion_position_ap_in_mm', f, 'Anterior-posterior entry coordinate (mm, + anterior) from position_reference.'),
      opt('insertion_position_ml_in_mm', f, 'Medial-lateral entry coordinate (mm, + right) from position_reference.'),
      opt('insertion_position_dv_in_mm', f, 'Dorsal-ventral entry coordinate (mm, + up) from position_reference.'),
      opt('depth_in_mm', f, 'How far the fiber was advanced along its angle (mm).'),
      opt('position_reference', t, 'What the zero of the coordinates is.'),
      opt('hemisphere', t, 'left or right.'),
      ...insertionAngles('insertion_angle'),
    ],
  },
  {
    neurodata_type_def: 'OpticalFiber', neurodata_type_inc: 'Device', doc: 'One implanted optical fiber.',
    groups: [{ name: 'fiber_insertion', neurodata_type_inc: 'FiberInsertion', doc: 'Its insertion.' }],
  },
  {
    neurodata_type_def: 'OpticalLensModel', neurodata_type_inc: 'DeviceModel', doc: 'Model of a lens.',
    attributes: [attr('numerical_aperture', f, 'Numerical aperture.'), opt('magnification', f, 'Nominal magnification.')],
  },
  {
    neurodata_type_def: 'LensPositioning', neurodata_type_inc: 'NWBContainer', default_name: 'lens_positioning', doc: 'Where a lens sits relative to the brain.',
    attributes: [
      attr('positioning_type', t, 'inserted, surface or transcranial.'),
      opt('target_position_ap_in_mm', f, 'Anterior-posterior target coordinate (mm, + anterior).'),
      opt('target_position_ml_in_mm', f, 'Medial-lateral target coordinate (mm, + right).'),
      opt('target_position_dv_in_mm', f, 'Dorsal-ventral target coordinate (mm, + up).'),
      attr('depth_in_mm', f, 'Depth below the brain surface along the optical axis (mm).'),
      opt('working_distance_in_mm', f, 'Distance from the front element to the surface or window (mm).'),
      opt('position_reference', t, 'What the zero of the coordinates is.'),
      opt('hemisphere', t, 'left or right.'),
      ...insertionAngles('optical_axis_angle'),
    ],
  },
  {
    neurodata_type_def: 'OpticalLens', neurodata_type_inc: 'Device', doc: 'One lens.',
    groups: [{ name: 'lens_positioning', neurodata_type_inc: 'LensPositioning', quantity: '?', doc: 'Its position.' }],
  },
  {
    neurodata_type_def: 'ViralVector', neurodata_type_inc: 'NWBContainer', doc: 'A viral vector that delivers an indicator or effector.',
    attributes: [
      attr('construct_name', t, 'Name of the construct.'),
      opt('description', t, 'Free-text description.'),
      attr('manufacturer', t, 'Who made it.'),
      attr('titer_in_vg_per_ml', f, 'Titer (vector genomes per ml).'),
    ],
  },
  {
    neurodata_type_def: 'ViralVectorInjection', neurodata_type_inc: 'NWBContainer', doc: 'One injection of a viral vector (one per hemisphere).',
    attributes: [
      opt('description', t, 'Free-text description.'),
      attr('location', t, 'Targeted region.'),
      attr('hemisphere', t, 'left or right.'),
      attr('reference', t, 'Zero point of the coordinates.'),
      attr('ap_in_mm', f, 'Anterior-posterior coordinate (mm, + anterior).'),
      attr('ml_in_mm', f, 'Medial-lateral coordinate (mm, + right).'),
      attr('dv_in_mm', f, 'Dorsal-ventral coordinate (mm, + up).'),
      opt('pitch_in_deg', f, 'Pitch of the injection (degrees).'),
      opt('yaw_in_deg', f, 'Yaw of the injection (degrees).'),
      opt('roll_in_deg', f, 'Roll of the injection (degrees).'),
      opt('stereotactic_rotation_in_deg', f, 'Stereotactic rotation (degrees).'),
      opt('stereotactic_tilt_in_deg', f, 'Stereotactic tilt (degrees).'),
      attr('volume_in_uL', f, 'Volume injected (µl).'),
      opt('injection_date', t, 'Date of the injection.'),
    ],
    links: [{ name: 'viral_vector', target_type: 'ViralVector', doc: 'What was injected.' }],
  },
  {
    neurodata_type_def: 'Indicator', neurodata_type_inc: 'NWBContainer', doc: 'A fluorescent indicator.',
    attributes: [attr('label', t, 'Its usual name, e.g. GCaMP6s.'), opt('description', t, 'Free-text description.'), opt('manufacturer', t, 'Who made it.')],
    links: [{ name: 'viral_vector_injection', target_type: 'ViralVectorInjection', quantity: '?', doc: 'How it was delivered.' }],
  },
  {
    neurodata_type_def: 'Effector', neurodata_type_inc: 'NWBContainer', doc: 'An effector such as an opsin.',
    attributes: [attr('label', t, 'Its usual name, e.g. ChR2.'), opt('description', t, 'Free-text description.'), opt('manufacturer', t, 'Who made it.')],
    links: [{ name: 'viral_vector_injection', target_type: 'ViralVectorInjection', quantity: '?', doc: 'How it was delivered.' }],
  },
];

export const NDX_OPHYS_DEVICES: NamespaceSpec = {
  name: 'ndx-ophys-devices',
  version: '0.3.1',
  doc: 'Devices and biological reagents of optical experiments (transcribed by fiberrig).',
  author: ['Alessandra Trapani'],
  contact: ['alessandra.trapani@catalystneuro.com'],
  includes: [{ namespace: 'core' }],
  sources: [{ name: 'ndx-ophys-devices.extensions', groups: ophysDevicesTypes }],
};

const column = (name: string, dtype: string | ReturnType<typeof ref>, doc: string, quantity?: '?') => ({
  name, neurodata_type_inc: 'VectorData', dtype, shape: [null], doc, ...(quantity ? { quantity } : {}),
});

const holder = (def: string, name: string, member: string, doc: string): GroupSpec => ({
  neurodata_type_def: def, neurodata_type_inc: 'NWBContainer', name, doc,
  groups: [{ neurodata_type_inc: member, quantity: '+', doc: `The ${member} objects.` }],
});

const fiberPhotometryTypes: GroupSpec[] = [
  holder('FiberPhotometryViruses', 'fiber_photometry_viruses', 'ViralVector', 'The viral vectors of a fiber photometry experiment.'),
  holder('FiberPhotometryVirusInjections', 'fiber_photometry_virus_injections', 'ViralVectorInjection', 'The injections of a fiber photometry experiment.'),
  holder('FiberPhotometryIndicators', 'fiber_photometry_indicators', 'Indicator', 'The indicators of a fiber photometry experiment.'),
  {
    neurodata_type_def: 'FiberPhotometryTable', neurodata_type_inc: 'DynamicTable', doc: 'One row per recorded trace: which fiber, light, filters and detector made it.',
    datasets: [
      column('location', 'text', 'Brain region of the fiber tip.'),
      {
        name: 'coordinates', neurodata_type_inc: 'VectorData', dtype: f, shape: [null, 3], quantity: '?', doc: 'Position of the fiber within a multi-fiber array (mm).',
        attributes: [attr('unit', t, 'Always millimeters.', { value: 'millimeters' })],
      },
      column('excitation_wavelength_in_nm', f, 'Excitation wavelength (nm).'),
      column('emission_wavelength_in_nm', f, 'Emission wavelength (nm).'),
      column('indicator', ref('Indicator'), 'The indicator.'),
      column('notes', t, 'Notes on the row.', '?'),
      column('optical_fiber', ref('OpticalFiber'), 'The fiber.'),
      column('excitation_source', ref('ExcitationSource'), 'The excitation source.'),
      column('commanded_voltage_series', ref('CommandedVoltageSeries'), 'The drive of the excitation source.', '?'),
      column('photodetector', ref('Photodetector'), 'The detector.'),
      column('dichroic_mirror', ref('DichroicMirror'), 'The dichroic mirror.', '?'),
      column('emission_filter', ref('OpticalFilter'), 'The emission filter.', '?'),
      column('excitation_filter', ref('OpticalFilter'), 'The excitation filter.', '?'),
    ],
  },
  {
    neurodata_type_def: 'FiberPhotometry', neurodata_type_inc: 'LabMetaData', doc: 'All fiber photometry metadata of a file.',
    groups: [
      { neurodata_type_inc: 'FiberPhotometryTable', doc: 'The table of traces.' },
      { neurodata_type_inc: 'FiberPhotometryIndicators', doc: 'The indicators.' },
      { neurodata_type_inc: 'FiberPhotometryViruses', quantity: '?', doc: 'The viral vectors.' },
      { neurodata_type_inc: 'FiberPhotometryVirusInjections', quantity: '?', doc: 'The injections.' },
    ],
  },
  {
    neurodata_type_def: 'FiberPhotometryResponseSeries', neurodata_type_inc: 'TimeSeries', doc: 'Fiber photometry signals over time.',
    datasets: [
      { name: 'data', shape: [[null], [null, null]], doc: 'Samples: time first, then (optionally) one column per trace.' },
      { name: 'fiber_photometry_table_region', neurodata_type_inc: 'DynamicTableRegion', quantity: '?', doc: 'The FiberPhotometryTable rows of the columns.' },
    ],
  },
  {
    neurodata_type_def: 'CommandedVoltageSeries', neurodata_type_inc: 'TimeSeries', doc: 'Voltage commanded to an excitation source.',
    datasets: [
      { name: 'data', dtype: f, shape: [null], doc: 'Commanded voltage per sample.' },
      { name: 'frequency', dtype: f, quantity: '?', doc: 'Modulation frequency (Hz).', attributes: [attr('unit', t, 'Always hertz.', { value: 'hertz' })] },
    ],
  },
];

export const NDX_FIBER_PHOTOMETRY: NamespaceSpec = {
  name: 'ndx-fiber-photometry',
  version: '0.2.4',
  doc: 'Fiber photometry recordings and their metadata (transcribed by fiberrig).',
  author: ['Alessandra Trapani', 'Luiz Tauffer', 'Paul Adkisson-Floro', 'Szonja Weigl'],
  contact: ['alessandra.trapani@catlystneuro.com', 'luiz.tauffer@catlystneuro.com', 'paul.adkisson@catlystneuro.com', 'szonja.weigl@catlystneuro.com'],
  includes: [
    { namespace: 'core', neurodata_types: ['TimeSeries', 'Device', 'LabMetaData'] },
    { namespace: 'hdmf-common', neurodata_types: ['DynamicTable', 'DynamicTableRegion', 'VectorData'] },
    {
      namespace: 'ndx-ophys-devices',
      neurodata_types: ['Indicator', 'ViralVector', 'ViralVectorInjection', 'OpticalFiber', 'ExcitationSource', 'Photodetector', 'DichroicMirror', 'BandOpticalFilter', 'EdgeOpticalFilter', 'OpticalFilter'],
    },
  ],
  sources: [{ name: 'ndx-fiber-photometry.extensions', groups: fiberPhotometryTypes }],
};

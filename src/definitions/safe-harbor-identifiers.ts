import type { FieldType, MaskKind } from '../model/index.ts';

/** Which of HIPAA Safe Harbor's 18 identifiers a field name suggests, and the mask to suggest. */
export interface SafeHarborIdentifier {
  /** e.g. `names`, `social security numbers`. */
  category: string;
  suggestedMask: MaskKind;
}

interface Rule extends SafeHarborIdentifier {
  matches(name: FieldName, type: FieldType): boolean;
}

interface FieldName {
  tokens: string[];
  /** The tokens joined without separators: `dateOfBirth` → `dateofbirth`. */
  compact: string;
  has(...tokens: string[]): boolean;
}

const DATE_TOKENS = ['date', 'dt', 'at', 'on', 'time', 'timestamp', 'datetime', 'day'];
const NUMBER_TOKENS = ['id', 'number', 'num', 'no', 'nbr', 'identifier'];

// Order matters: the first matching rule wins (`ip_address` is an IP address, not an address).
const RULES: readonly Rule[] = [
  {
    category: 'names',
    suggestedMask: 'REDACT',
    matches: (name) =>
      name.compact === 'name' ||
      name.has('surname', 'maiden') ||
      [
        'firstname',
        'lastname',
        'fullname',
        'middlename',
        'givenname',
        'familyname',
        'nickname',
        'patientname',
        'legalname',
        'preferredname',
      ].some((form) => name.compact.endsWith(form)),
  },
  {
    category: 'social security numbers',
    suggestedMask: 'HASH',
    matches: (name) => name.has('ssn') || name.compact.includes('socialsecurity'),
  },
  {
    category: 'medical record numbers',
    suggestedMask: 'HASH',
    matches: (name) => name.has('mrn') || name.compact.includes('medicalrecord'),
  },
  { category: 'fax numbers', suggestedMask: 'REDACT', matches: (name) => name.has('fax') },
  {
    category: 'telephone numbers',
    suggestedMask: 'REDACT',
    matches: (name) =>
      name.has('phone', 'telephone', 'mobile', 'cellphone') || name.compact.includes('phonenumber'),
  },
  {
    category: 'email addresses',
    suggestedMask: 'HASH',
    matches: (name) => name.has('email') || name.compact.includes('email'),
  },
  {
    category: 'IP addresses',
    suggestedMask: 'HASH',
    matches: (name) => name.has('ip', 'ipv4', 'ipv6') || name.compact.includes('ipaddress'),
  },
  {
    category: 'URLs',
    suggestedMask: 'REDACT',
    matches: (name) => name.has('url', 'website', 'homepage'),
  },
  {
    category: 'postal codes',
    suggestedMask: 'ZIP3',
    matches: (name) => name.has('zip', 'zipcode', 'postal', 'postcode') || name.compact.includes('zipcode'),
  },
  {
    category: 'geographic subdivisions smaller than a state',
    suggestedMask: 'REDACT',
    matches: (name) =>
      name.has(
        'address',
        'street',
        'city',
        'county',
        'precinct',
        'latitude',
        'longitude',
        'lat',
        'lon',
        'lng',
        'geolocation',
      ),
  },
  {
    category: 'dates related to an individual (birth, death, admission, discharge)',
    suggestedMask: 'DATE_YEAR',
    matches: (name, type) => {
      if (['dob', 'birthdate', 'dateofbirth', 'birthday', 'deathdate', 'dateofdeath'].includes(name.compact))
        return true;
      if (name.has('year')) return false;
      const event = name.has(
        'birth',
        'dob',
        'death',
        'deceased',
        'died',
        'admission',
        'admit',
        'admitted',
        'discharge',
        'discharged',
      );
      const isDate = type.kind === 'scalar' && (type.sql === 'DATE' || type.sql === 'TIMESTAMPTZ');
      return event && (isDate || name.has(...DATE_TOKENS));
    },
  },
  {
    category: 'ages over 89',
    suggestedMask: 'AGE_90_PLUS',
    matches: (name, type) =>
      name.has('age') &&
      type.kind === 'scalar' &&
      ['INTEGER', 'BIGINT', 'UINTEGER', 'UBIGINT'].includes(type.sql),
  },
  {
    category: 'health plan beneficiary numbers',
    suggestedMask: 'HASH',
    matches: (name) =>
      name.has('beneficiary', 'medicaid', 'medicare', 'hicn', 'mbi') ||
      name.compact.includes('healthplan') ||
      (name.has('member', 'subscriber', 'insurance', 'policy') && name.has(...NUMBER_TOKENS)),
  },
  {
    category: 'account numbers',
    suggestedMask: 'HASH',
    matches: (name) =>
      name.has('account', 'acct') && (name.tokens.length === 1 || name.has(...NUMBER_TOKENS)),
  },
  {
    category: 'certificate and license numbers',
    suggestedMask: 'HASH',
    matches: (name) => name.has('license', 'licence', 'certificate', 'passport'),
  },
  {
    category: 'vehicle identifiers',
    suggestedMask: 'HASH',
    matches: (name) => name.has('vin', 'vehicle', 'plate'),
  },
  {
    category: 'device identifiers and serial numbers',
    suggestedMask: 'HASH',
    matches: (name) => name.has('udi', 'serial') || (name.has('device') && name.has(...NUMBER_TOKENS)),
  },
  {
    category: 'biometric identifiers',
    suggestedMask: 'NULLIFY',
    matches: (name) =>
      name.has('biometric', 'biometrics', 'fingerprint', 'voiceprint', 'faceprint', 'retina'),
  },
  {
    category: 'full-face photographs',
    suggestedMask: 'NULLIFY',
    matches: (name) => name.has('photo', 'photograph', 'headshot', 'portrait', 'selfie'),
  },
];

// Names that count, measure or flag an identifier are not the identifier: `zip_code_count`,
// `email_type`, `has_email`, `is_phone_verified`.
const QUANTITY_TOKENS = new Set([
  'count',
  'counts',
  'cnt',
  'total',
  'sum',
  'avg',
  'mean',
  'median',
  'min',
  'max',
  'pct',
  'percent',
  'percentage',
  'ratio',
  'rate',
  'share',
  'distinct',
  'len',
  'length',
  'valid',
  'verified',
  'flag',
  'type',
  'status',
  'format',
  'source',
]);
const FLAG_PREFIXES = new Set(['is', 'has', 'n', 'count']);

/** Whether a field name counts, measures or flags something rather than holding it. */
export function countsOrFlags(tokens: readonly string[]): boolean {
  return (
    tokens.some((token) => QUANTITY_TOKENS.has(token)) ||
    (tokens.length > 1 && FLAG_PREFIXES.has(tokens[0] ?? ''))
  );
}

/**
 * The Safe Harbor identifier a field's name suggests, if any. Deliberately name-based (it cannot
 * see data): `patient_id` is not flagged, `ssn`, `first_name`, `zip` or `birth_date` are; names
 * that count or flag one (`zip_code_count`, `has_email`) are not.
 */
export function safeHarborIdentifierOf(fieldName: string, type: FieldType): SafeHarborIdentifier | undefined {
  const tokens = fieldName
    .replace(/([a-z0-9])([A-Z])/g, '$1_$2')
    .toLowerCase()
    .split(/[^a-z0-9]+/)
    .filter(Boolean);
  if (countsOrFlags(tokens)) return undefined;
  const name: FieldName = {
    tokens,
    compact: tokens.join(''),
    has: (...candidates) => candidates.some((candidate) => tokens.includes(candidate)),
  };
  const rule = RULES.find((candidate) => candidate.matches(name, type));
  return rule ? { category: rule.category, suggestedMask: rule.suggestedMask } : undefined;
}

import { createHash } from 'node:crypto';
import { AVATAR_JPEGS_BASE64 } from './avatars.ts';
import { objectId } from './ids.ts';
import {
  COMPANIES,
  DEPARTMENTS,
  EMPLOYEE_TYPES,
  FIRST_NAMES,
  GUEST_DOMAINS,
  JOB_TITLES,
  LAST_NAMES,
  LOCATIONS,
  PROJECTS,
} from './names.ts';
import { hash3, hex, pick, unit } from './random.ts';
import type { GraphGroup, GraphUser, GroupKind, PhotoData, TenantSpec } from './types.ts';

// The generated ("base") tenant: every user and group is a pure function of (seed, index).
// Nothing here allocates per user at start-up except the membership index built by buildMemberships.

const F = FIRST_NAMES.length;
const L = LAST_NAMES.length;
const M = F * L; // distinct first.last pairs; beyond that a numeric suffix keeps UPNs unique
const FIRST_BY_LOWER = new Map(FIRST_NAMES.map((n, i) => [n.toLowerCase(), i]));
const LAST_BY_LOWER = new Map(LAST_NAMES.map((n, i) => [n.toLowerCase(), i]));

const SALT = {
  perm: 1,
  guest: 2,
  disabled: 3,
  dept: 4,
  title: 5,
  loc: 6,
  company: 7,
  phone: 8,
  mail: 9,
  sync: 10,
  ext: 11,
  created: 12,
  photo: 13,
  avatar: 14,
  noManager: 15,
  guestDomain: 16,
  groups: 17,
  groupCount: 18,
  fax: 19,
  empType: 20,
  hire: 21,
  office: 22,
  groupKind: 23,
  groupName: 24,
  state: 25,
} as const;

/** An affine permutation of [0, M) per seed, so consecutive users don't get consecutive names. */
function permutation(seed: number): { a: number; b: number; aInverse: number } {
  let a = (hash3(seed, 0, SALT.perm) % (M - 1)) + 1;
  while (gcd(a, M) !== 1) a++;
  return { a, b: hash3(seed, 1, SALT.perm) % M, aInverse: modInverse(a, M) };
}
function gcd(x: number, y: number): number {
  return y === 0 ? x : gcd(y, x % y);
}
function modInverse(a: number, m: number): number {
  let [oldR, r] = [BigInt(a), BigInt(m)];
  let [oldS, s] = [1n, 0n];
  while (r !== 0n) {
    const q = oldR / r;
    [oldR, r] = [r, oldR - q * r];
    [oldS, s] = [s, oldS - q * s];
  }
  return Number(((oldS % BigInt(m)) + BigInt(m)) % BigInt(m));
}
function mulMod(x: number, y: number, m: number): number {
  return Number((BigInt(x) * BigInt(y)) % BigInt(m));
}

export interface BaseNames {
  first: string;
  last: string;
  alias: string;
}

export function baseNames(spec: TenantSpec, index: number): BaseNames {
  const { a, b } = permutation(spec.seed);
  const block = Math.floor(index / M);
  const p = (mulMod(a, index % M, M) + b) % M;
  const first = FIRST_NAMES[p % F];
  const last = LAST_NAMES[Math.floor(p / F)];
  const alias = `${first}.${last}`.toLowerCase() + (block > 0 ? String(block + 1) : '');
  return { first, last, alias };
}

/** The base index whose generated alias is `alias` (the part before @, or before _domain#EXT# for guests). */
export function indexOfAlias(spec: TenantSpec, alias: string): number | undefined {
  const m = /^([a-z]+)\.([a-z]+?)(\d*)$/.exec(alias.toLowerCase());
  if (!m) return undefined;
  const f = FIRST_BY_LOWER.get(m[1]);
  const l = LAST_BY_LOWER.get(m[2]);
  if (f === undefined || l === undefined) return undefined;
  const block = m[3] === '' ? 0 : Number(m[3]) - 1;
  if (block < 1 && m[3] !== '') return undefined;
  const { b, aInverse } = permutation(spec.seed);
  const p = l * F + f;
  const j = mulMod(aInverse, (p - b + M) % M, M);
  return block * M + j;
}

export function isGuestIndex(spec: TenantSpec, index: number): boolean {
  return index > 0 && unit(spec.seed, index, SALT.guest) < spec.guestRatio;
}

export function baseManagerIndex(spec: TenantSpec, index: number): number | undefined {
  if (index === 0 || isGuestIndex(spec, index)) return undefined;
  if (unit(spec.seed, index, SALT.noManager) < 0.03) return undefined;
  let manager = Math.floor((index - 1) / spec.managerFanout);
  while (manager > 0 && isGuestIndex(spec, manager)) manager = Math.floor((manager - 1) / spec.managerFanout);
  return manager;
}

const iso = (ms: number) => new Date(ms).toISOString().replace(/\.\d{3}Z$/, 'Z');
const EPOCH_2018 = Date.UTC(2018, 0, 1);

export function baseUser(spec: TenantSpec, index: number): GraphUser {
  const s = spec.seed;
  const { first, last, alias } = baseNames(spec, index);
  const guest = isGuestIndex(spec, index);
  const loc = pick(LOCATIONS, s, index, SALT.loc);
  const created = iso(EPOCH_2018 + (hash3(s, index, SALT.created) % (6 * 365)) * 86_400_000);
  const phone = `${loc.phonePrefix} ${String(1000 + (hash3(s, index, SALT.phone) % 9000))}`;
  const extensionAttributes: Record<string, string | null> = {};
  for (let n = 1; n <= 15; n++) extensionAttributes[`extensionAttribute${n}`] = null;
  const base = {
    id: objectId(s, 'user', index),
    displayName: `${first} ${last}`,
    givenName: first,
    surname: last,
    createdDateTime: created,
    accountEnabled: unit(s, index, SALT.disabled) >= spec.disabledRatio,
    preferredLanguage: 'en-US',
    businessPhones: [] as string[],
    otherMails: [] as string[],
    onPremisesExtensionAttributes: extensionAttributes,
    identities: [] as unknown[],
  };
  if (guest) {
    const domain = pick(GUEST_DOMAINS, s, index, SALT.guestDomain);
    const mail = `${alias}@${domain}`;
    const nickname = `${alias}_${domain}#EXT#`;
    return {
      ...base,
      userPrincipalName: `${nickname}@${spec.initialDomain}`,
      mail,
      mailNickname: nickname,
      userType: 'Guest',
      creationType: 'Invitation',
      externalUserState: unit(s, index, SALT.state) < 0.2 ? 'PendingAcceptance' : 'Accepted',
      otherMails: [mail],
      proxyAddresses: [`SMTP:${mail}`],
      companyName: null,
      department: null,
      jobTitle: null,
      employeeId: null,
      employeeType: null,
      employeeHireDate: null,
      officeLocation: null,
      city: null,
      state: null,
      country: null,
      postalCode: null,
      streetAddress: null,
      usageLocation: null,
      mobilePhone: null,
      faxNumber: null,
      onPremisesSyncEnabled: null,
      [spec.extensionCostCenter]: null,
    };
  }
  const hasMailbox = unit(s, index, SALT.mail) >= 0.02;
  const mail = hasMailbox ? `${alias}@${spec.domain}` : null;
  const synced = unit(s, index, SALT.sync) < 0.6;
  const costCenter = `CC-${String(1000 + (hash3(s, index, SALT.ext) % 400))}`;
  if (unit(s, index, SALT.ext + 100) < 0.7) extensionAttributes.extensionAttribute1 = costCenter;
  if (unit(s, index, SALT.ext + 101) < 0.3)
    extensionAttributes.extensionAttribute2 = `Level ${1 + (hash3(s, index, SALT.ext + 102) % 9)}`;
  const proxyAddresses = hasMailbox ? [`SMTP:${mail}`, `smtp:${alias}@${spec.initialDomain}`] : [];
  if (hasMailbox && unit(s, index, SALT.mail + 100) < 0.5) proxyAddresses.push(`SIP:${mail}`);
  const department = unit(s, index, SALT.dept) < 0.08 ? null : pick(DEPARTMENTS, s, index, SALT.dept + 1);
  return {
    ...base,
    userPrincipalName: `${alias}@${spec.domain}`,
    mail,
    mailNickname: alias,
    userType: 'Member',
    creationType: null,
    externalUserState: null,
    proxyAddresses,
    companyName: pick(COMPANIES, s, index, SALT.company),
    department,
    jobTitle: index === 0 ? 'Chief Executive Officer' : pick(JOB_TITLES, s, index, SALT.title),
    employeeId: String(100000 + index),
    employeeType: pick(EMPLOYEE_TYPES, s, index, SALT.empType),
    employeeHireDate: created,
    officeLocation: `${loc.city} ${1 + (hash3(s, index, SALT.office) % 5)}/${100 + (hash3(s, index, SALT.office + 1) % 400)}`,
    city: loc.city,
    state: loc.state,
    country: loc.country,
    postalCode: loc.postalCode,
    streetAddress: loc.street,
    usageLocation: loc.usageLocation,
    mobilePhone: phone,
    businessPhones:
      unit(s, index, SALT.phone + 1) < 0.7
        ? [`${loc.phonePrefix} ${String(1000 + (hash3(s, index, SALT.phone + 2) % 9000))}`]
        : [],
    faxNumber:
      unit(s, index, SALT.fax) < 0.05
        ? `${loc.phonePrefix} ${String(1000 + (hash3(s, index, SALT.fax + 1) % 9000))}`
        : null,
    onPremisesSyncEnabled: synced ? true : null,
    [spec.extensionCostCenter]: costCenter,
  };
}

export function baseHasPhoto(spec: TenantSpec, index: number): boolean {
  return unit(spec.seed, index, SALT.photo) < spec.photoRatio;
}

/** A valid JPEG: one of the avatar templates plus a COM segment that makes the bytes unique per user and version. */
export function makePhoto(seed: number, key: string, version: number): PhotoData {
  const template = Buffer.from(
    AVATAR_JPEGS_BASE64[
      hash3(seed, version, key.length * 31 + key.charCodeAt(key.length - 1)) % AVATAR_JPEGS_BASE64.length
    ],
    'base64',
  );
  const comment = Buffer.from(`usersync-emulator ${key} v${version}`, 'latin1');
  const segment = Buffer.alloc(4 + comment.length);
  segment[0] = 0xff;
  segment[1] = 0xfe;
  segment.writeUInt16BE(comment.length + 2, 2);
  comment.copy(segment, 4);
  const bytes = Buffer.concat([template.subarray(0, 2), segment, template.subarray(2)]);
  return photoFromBytes(bytes, 'image/jpeg', 96, 96);
}

export function photoFromBytes(bytes: Buffer, contentType: string, width: number, height: number): PhotoData {
  const etag = createHash('sha256').update(bytes).digest('hex').slice(0, 8).toUpperCase();
  return { bytes, contentType, width, height, etag: `"${etag}"` };
}

// Groups ------------------------------------------------------------------------------------------

/** Kinds cycle so every tenant has all four: security, Microsoft 365, mail-enabled security, distribution. */
export function baseGroupKind(index: number): GroupKind {
  if (index === 0) return 'microsoft365';
  const kinds: GroupKind[] = [
    'security',
    'microsoft365',
    'security',
    'distribution',
    'microsoft365',
    'mail-enabled-security',
    'security',
    'distribution',
    'microsoft365',
    'security',
  ];
  return kinds[index % kinds.length];
}

export function baseGroup(spec: TenantSpec, index: number): GraphGroup {
  const s = spec.seed;
  const kind = baseGroupKind(index);
  const id = objectId(s, 'group', index);
  let displayName: string;
  if (index === 0) displayName = 'All Employees';
  else if (index % 3 === 0)
    displayName = `${pick(DEPARTMENTS, s, index, SALT.groupName)} ${['Team', 'Leads', 'Announcements', 'Members'][index % 4]} ${index}`;
  else displayName = `Project ${pick(PROJECTS, s, index, SALT.groupName)} ${index}`;
  const nickname = displayName.toLowerCase().replace(/[^a-z0-9]+/g, '-');
  const mailEnabled = kind !== 'security';
  const dynamic = kind === 'security' && index % 50 === 10;
  return {
    id,
    displayName,
    description: index === 0 ? 'Everyone in the organisation' : `${displayName} (${kind})`,
    groupTypes: kind === 'microsoft365' ? ['Unified'] : dynamic ? ['DynamicMembership'] : [],
    mailEnabled,
    securityEnabled:
      kind === 'security' || kind === 'mail-enabled-security' || (kind === 'microsoft365' && index % 4 === 0),
    mail: mailEnabled ? `${nickname}@${spec.domain}` : null,
    mailNickname: nickname,
    proxyAddresses: mailEnabled ? [`SMTP:${nickname}@${spec.domain}`, `smtp:${nickname}@${spec.initialDomain}`] : [],
    visibility: kind === 'microsoft365' ? (index % 5 === 0 ? 'Private' : 'Public') : null,
    createdDateTime: iso(EPOCH_2018 + (hash3(s, index, SALT.created + 1) % (6 * 365)) * 86_400_000),
    onPremisesSyncEnabled: kind === 'distribution' || kind === 'mail-enabled-security' ? true : null,
    membershipRule: dynamic ? 'user.accountEnabled -eq true' : null,
    membershipRuleProcessingState: dynamic ? 'On' : null,
    deletedDateTime: null,
  };
}

/** The groups a base user joins directly: everyone non-guest is in group 0, plus 1–3 skewed picks. */
export function baseGroupsOfUser(spec: TenantSpec, index: number): number[] {
  const g = spec.groupCount;
  if (g === 0) return [];
  const out: number[] = [];
  if (!isGuestIndex(spec, index)) out.push(0);
  if (g === 1) return out;
  const picks = 1 + (hash3(spec.seed, index, SALT.groupCount) % 3);
  for (let k = 0; k < picks; k++) {
    const u = unit(spec.seed, index, SALT.groups + k * 7);
    const group = 1 + Math.floor((g - 1) * u * u); // skewed: low-numbered groups are larger
    if (!out.includes(group)) out.push(group);
  }
  return out;
}

/** Nested groups: every tenth group (from 5) has the next group as a member. */
export function baseChildGroup(spec: TenantSpec, index: number): number | undefined {
  return index % 10 === 5 && index + 1 < spec.groupCount ? index + 1 : undefined;
}

/** Compressed membership index (CSR): members of group g are userIndex[offsets[g] .. offsets[g+1]). */
export interface MembershipIndex {
  offsets: Int32Array;
  users: Int32Array;
}

export function buildMemberships(spec: TenantSpec): MembershipIndex {
  const counts = new Int32Array(spec.groupCount + 1);
  for (let i = 0; i < spec.userCount; i++) for (const g of baseGroupsOfUser(spec, i)) counts[g + 1]++;
  const offsets = new Int32Array(spec.groupCount + 1);
  for (let g = 0; g < spec.groupCount; g++) offsets[g + 1] = offsets[g] + counts[g + 1];
  const cursor = offsets.slice(0, spec.groupCount);
  const users = new Int32Array(offsets[spec.groupCount]);
  for (let i = 0; i < spec.userCount; i++) for (const g of baseGroupsOfUser(spec, i)) users[cursor[g]++] = i;
  return { offsets, users };
}

export function extensionAppHex(seed: number): string {
  return objectId(seed, 'app', 7).replaceAll('-', '');
}

export { hex };

// Property catalogue of the Graph v1.0 `user` and `group` resources as the emulator serves them,
// plus $select parsing, projection and @odata.context helpers. Pure data and functions, no I/O.
// Wire spec: shared/reference/microsoft-graph.md §2, §5, §10.

export type Resource = 'user' | 'group';

/** A Graph error as plain data; the HTTP layer wraps it into `{"error":{code,message,innerError}}`. */
export interface QueryError {
  status: number;
  code: string;
  message: string;
}

export type QueryResult<T> = ({ ok: true } & T) | ({ ok: false } & QueryError);

export function queryError(status: number, code: string, message: string): { ok: false } & QueryError {
  return { ok: false, status, code, message };
}

// ---------------------------------------------------------------------------------------------
// Catalogue

export type PropertyKind = 'string' | 'boolean' | 'dateTimeOffset' | 'complex' | 'navigation' | 'untyped';

/**
 * Filter capabilities of one property, after the property table of the v1.0 resource pages.
 * `range` covers ge/le (and gt/lt, which the emulator accepts wherever ge/le are allowed);
 * `null` means `eq null` / `ne null`; `count` means `prop/$count eq n` on a collection.
 * For collections the operators apply to the elements inside `any(...)`.
 */
export type FilterOp = 'eq' | 'ne' | 'in' | 'startsWith' | 'endsWith' | 'range' | 'null' | 'count';

export interface FilterSupport {
  ops: ReadonlySet<FilterOp>;
  /** Filterable only with ConsistencyLevel: eventual + $count=true (basic mode answers "Unsupported or invalid query filter clause…"). */
  advancedOnly: boolean;
}

export interface PropertyDef {
  name: string;
  kind: PropertyKind;
  collection: boolean;
  /** Returned when the request has no $select. */
  isDefault: boolean;
  /** Readable only on a single-entity GET; in a collection or delta $select it is a 501. */
  collectionUnreadable: boolean;
  filter: FilterSupport | null;
  orderBy: 'basic' | 'advanced' | null;
  search: 'tokenized' | 'prefix' | null;
  /** OData type name of a complex property, e.g. `microsoft.graph.objectIdentity`. */
  complexType?: string;
  subProperties?: readonly PropertyDef[];
  /** Complex value projected as an object of all sub-properties even when unset (onPremisesExtensionAttributes). */
  alwaysObject?: boolean;
  /** A directory extension (`extension_{appId}_{name}`), defined per tenant. */
  isExtension?: boolean;
}

export interface ResourceDef {
  resource: Resource;
  entitySet: 'users' | 'groups';
  /** `microsoft.graph.user`, as in "Could not find a property named 'x' on type 'microsoft.graph.user'." */
  typeName: string;
  /** `User`, as in "…specified for property 'x' of resource 'User'." */
  label: string;
  properties: readonly PropertyDef[];
}

interface PropOptions {
  collection?: boolean;
  isDefault?: boolean;
  collectionUnreadable?: boolean;
  /** Space-separated FilterOp list. */
  filter?: string;
  advancedOnly?: boolean;
  orderBy?: 'basic' | 'advanced';
  tokenizedSearch?: boolean;
  complexType?: string;
  subProperties?: readonly PropertyDef[];
  alwaysObject?: boolean;
}

function prop(name: string, kind: PropertyKind, o: PropOptions = {}): PropertyDef {
  const ops = o.filter ? new Set(o.filter.split(' ') as FilterOp[]) : null;
  const isStringy = kind === 'string';
  let search: PropertyDef['search'] = null;
  // Graph: displayName/description are tokenized; any other string property in $search behaves as startsWith.
  if (o.tokenizedSearch) search = 'tokenized';
  else if (isStringy && ops?.has('startsWith')) search = 'prefix';
  const def: PropertyDef = {
    name,
    kind,
    collection: o.collection ?? false,
    isDefault: o.isDefault ?? false,
    collectionUnreadable: o.collectionUnreadable ?? false,
    filter: ops ? { ops, advancedOnly: o.advancedOnly ?? false } : null,
    orderBy: o.orderBy ?? null,
    search,
  };
  if (o.complexType !== undefined) def.complexType = o.complexType;
  if (o.subProperties !== undefined) def.subProperties = o.subProperties;
  if (o.alwaysObject) def.alwaysObject = true;
  return def;
}

const STRING_FULL = 'eq ne in range startsWith null';

const EXTENSION_ATTRIBUTES: readonly PropertyDef[] = Array.from({ length: 15 }, (_, i) =>
  // [unconfirmed] filtering on extensionAttributeN is taken as advanced-only, as in the advanced-queries page.
  prop(`extensionAttribute${i + 1}`, 'string', { filter: 'eq ne in null', advancedOnly: true }),
);

const USER_PROPERTIES: readonly PropertyDef[] = [
  // The 11 default properties (§2.2).
  prop('businessPhones', 'string', { collection: true, isDefault: true, filter: 'eq range startsWith' }),
  prop('displayName', 'string', { isDefault: true, filter: STRING_FULL, orderBy: 'basic', tokenizedSearch: true }),
  prop('givenName', 'string', { isDefault: true, filter: STRING_FULL, orderBy: 'advanced' }),
  prop('id', 'string', { isDefault: true, filter: 'eq ne in' }),
  prop('jobTitle', 'string', { isDefault: true, filter: STRING_FULL }),
  prop('mail', 'string', { isDefault: true, filter: `${STRING_FULL} endsWith`, orderBy: 'advanced' }),
  // Observed: mobilePhone, officeLocation, preferredLanguage … answer Request_UnsupportedQuery in basic mode.
  prop('mobilePhone', 'string', { isDefault: true, filter: STRING_FULL, advancedOnly: true }),
  prop('officeLocation', 'string', { isDefault: true, filter: STRING_FULL, advancedOnly: true }),
  prop('preferredLanguage', 'string', { isDefault: true, filter: STRING_FULL, advancedOnly: true }),
  prop('surname', 'string', { isDefault: true, filter: STRING_FULL, orderBy: 'advanced' }),
  prop('userPrincipalName', 'string', {
    isDefault: true,
    filter: 'eq ne in range startsWith endsWith',
    orderBy: 'basic',
  }),
  // Returned only on $select.
  prop('accountEnabled', 'boolean', { filter: 'eq ne in' }),
  prop('city', 'string', { filter: STRING_FULL }),
  prop('companyName', 'string', { filter: STRING_FULL, advancedOnly: true }),
  prop('country', 'string', { filter: STRING_FULL }),
  prop('createdDateTime', 'dateTimeOffset', { filter: 'eq ne in range', orderBy: 'advanced' }),
  prop('creationType', 'string', { filter: 'eq ne in' }),
  prop('deletedDateTime', 'dateTimeOffset', { filter: 'eq ne in range' }),
  prop('department', 'string', { filter: STRING_FULL }),
  prop('employeeHireDate', 'dateTimeOffset', { filter: 'eq ne in range', advancedOnly: true }),
  prop('employeeId', 'string', { filter: STRING_FULL }),
  prop('employeeOrgData', 'complex', {
    complexType: 'microsoft.graph.employeeOrgData',
    subProperties: [
      prop('division', 'string', { filter: 'eq ne in range', advancedOnly: true }),
      prop('costCenter', 'string', { filter: 'eq ne in range', advancedOnly: true }),
    ],
  }),
  prop('employeeType', 'string', { filter: 'eq ne in range startsWith', advancedOnly: true }),
  prop('externalUserState', 'string', { filter: 'eq ne in' }),
  prop('faxNumber', 'string', { filter: STRING_FULL, advancedOnly: true }),
  prop('identities', 'complex', {
    collection: true,
    complexType: 'microsoft.graph.objectIdentity',
    filter: 'eq',
    subProperties: [
      prop('signInType', 'string', { filter: 'eq' }),
      prop('issuer', 'string', { filter: 'eq' }),
      prop('issuerAssignedId', 'string', { filter: 'eq' }),
    ],
  }),
  prop('mailNickname', 'string', { filter: STRING_FULL }),
  prop('onPremisesExtensionAttributes', 'complex', {
    complexType: 'microsoft.graph.onPremisesExtensionAttributes',
    subProperties: EXTENSION_ATTRIBUTES,
    alwaysObject: true,
  }),
  prop('onPremisesImmutableId', 'string', { filter: 'eq ne in range' }),
  prop('onPremisesLastSyncDateTime', 'dateTimeOffset', { filter: 'eq ne in range' }),
  prop('onPremisesSamAccountName', 'string', { filter: 'eq ne in range startsWith', advancedOnly: true }),
  prop('onPremisesSyncEnabled', 'boolean', { filter: 'eq ne in null' }),
  prop('onPremisesUserPrincipalName', 'string', { filter: 'eq ne in range startsWith' }),
  prop('otherMails', 'string', { collection: true, filter: 'eq in range startsWith endsWith count' }),
  prop('postalCode', 'string', { filter: STRING_FULL, advancedOnly: true }),
  prop('proxyAddresses', 'string', { collection: true, filter: 'eq range startsWith endsWith count' }),
  prop('state', 'string', { filter: STRING_FULL }),
  prop('streetAddress', 'string', { filter: STRING_FULL, advancedOnly: true }),
  prop('usageLocation', 'string', { filter: STRING_FULL }),
  prop('userType', 'string', { filter: 'eq ne in null' }),
  // Not stored in Entra ID: single-user GET only (§2.2).
  prop('aboutMe', 'string', { collectionUnreadable: true }),
  prop('birthday', 'dateTimeOffset', { collectionUnreadable: true }),
  prop('hireDate', 'dateTimeOffset', { collectionUnreadable: true }),
  prop('interests', 'string', { collection: true, collectionUnreadable: true }),
  prop('mySite', 'string', { collectionUnreadable: true }),
  prop('pastProjects', 'string', { collection: true, collectionUnreadable: true }),
  prop('preferredName', 'string', { collectionUnreadable: true }),
  prop('responsibilities', 'string', { collection: true, collectionUnreadable: true }),
  prop('schools', 'string', { collection: true, collectionUnreadable: true }),
  prop('skills', 'string', { collection: true, collectionUnreadable: true }),
  prop('mailboxSettings', 'complex', { collectionUnreadable: true, complexType: 'microsoft.graph.mailboxSettings' }),
  // Navigation properties: known to the type (so $filter on them is "unsupported", not "unknown"),
  // never part of a projected entity.
  prop('manager', 'navigation'),
  prop('directReports', 'navigation', { collection: true }),
  prop('memberOf', 'navigation', { collection: true }),
  prop('photo', 'navigation'),
];

const GROUP_PROPERTIES: readonly PropertyDef[] = [
  // Graph returns nearly every group property without $select; all served non-navigation ones are default.
  prop('id', 'string', { isDefault: true, filter: 'eq ne in' }),
  prop('createdDateTime', 'dateTimeOffset', { isDefault: true, filter: 'eq ne in range', orderBy: 'advanced' }),
  prop('deletedDateTime', 'dateTimeOffset', { isDefault: true, filter: 'eq ne in range' }),
  // Observed: description answers Request_UnsupportedQuery in basic mode.
  prop('description', 'string', {
    isDefault: true,
    filter: 'eq ne range startsWith',
    advancedOnly: true,
    tokenizedSearch: true,
  }),
  prop('displayName', 'string', { isDefault: true, filter: STRING_FULL, orderBy: 'basic', tokenizedSearch: true }),
  prop('groupTypes', 'string', { isDefault: true, collection: true, filter: 'eq' }),
  prop('mail', 'string', { isDefault: true, filter: `${STRING_FULL} endsWith`, orderBy: 'advanced' }),
  prop('mailEnabled', 'boolean', { isDefault: true, filter: 'eq ne in' }),
  prop('mailNickname', 'string', { isDefault: true, filter: STRING_FULL }),
  prop('membershipRule', 'string', { isDefault: true, filter: 'eq ne range startsWith' }),
  prop('membershipRuleProcessingState', 'string', { isDefault: true, filter: 'eq ne in' }),
  prop('onPremisesSyncEnabled', 'boolean', { isDefault: true, filter: 'eq ne in null' }),
  prop('proxyAddresses', 'string', {
    isDefault: true,
    collection: true,
    filter: 'eq range startsWith endsWith count',
  }),
  prop('securityEnabled', 'boolean', { isDefault: true, filter: 'eq ne in' }),
  // [unconfirmed] visibility is not documented as filterable.
  prop('visibility', 'string', { isDefault: true }),
  prop('members', 'navigation', { collection: true }),
  prop('owners', 'navigation', { collection: true }),
];

const RESOURCES: Record<Resource, ResourceDef> = {
  user: {
    resource: 'user',
    entitySet: 'users',
    typeName: 'microsoft.graph.user',
    label: 'User',
    properties: USER_PROPERTIES,
  },
  group: {
    resource: 'group',
    entitySet: 'groups',
    typeName: 'microsoft.graph.group',
    label: 'Group',
    properties: GROUP_PROPERTIES,
  },
};

const BY_LOWER_NAME: Record<Resource, Map<string, PropertyDef>> = {
  user: indexByLowerName(USER_PROPERTIES),
  group: indexByLowerName(GROUP_PROPERTIES),
};

function indexByLowerName(props: readonly PropertyDef[]): Map<string, PropertyDef> {
  return new Map(props.map((p) => [p.name.toLowerCase(), p]));
}

export function resourceDef(resource: Resource): ResourceDef {
  return RESOURCES[resource];
}

/** Directory extension property names look like `extension_5bfc8fdacfc943a9a6de214ea9d15fdb_linkedInProfile`. */
export const EXTENSION_NAME_PATTERN = /^extension_[0-9a-f]{32}_[A-Za-z0-9_]+$/i;

/**
 * Resolves a property name case-insensitively to its definition, including the tenant's directory
 * extensions (canonical casing taken from `extensionNames`). Null when the type has no such property.
 */
export function findProperty(
  resource: Resource,
  name: string,
  extensionNames: ReadonlySet<string> = new Set(),
): PropertyDef | null {
  const lower = name.toLowerCase();
  const known = BY_LOWER_NAME[resource].get(lower);
  if (known) return known;
  if (!EXTENSION_NAME_PATTERN.test(name)) return null;
  for (const ext of extensionNames) {
    if (ext.toLowerCase() === lower) return extensionProperty(ext);
  }
  return null;
}

/** Sub-property of a complex property, case-insensitively. */
export function findSubProperty(parent: PropertyDef, name: string): PropertyDef | null {
  const lower = name.toLowerCase();
  return parent.subProperties?.find((p) => p.name.toLowerCase() === lower) ?? null;
}

function extensionProperty(name: string): PropertyDef {
  // §2.5: eq, ne and eq null (the latter two advanced, like everywhere). The value type is tenant-defined.
  const def = prop(name, 'untyped', { filter: 'eq ne null' });
  def.isExtension = true;
  return def;
}

export function defaultProperties(resource: Resource): string[] {
  return RESOURCES[resource].properties.filter((p) => p.isDefault).map((p) => p.name);
}

/** "Could not find a property named 'foo' on type 'microsoft.graph.user'." — 400 Request_BadRequest. */
export function unknownPropertyError(typeName: string, name: string): { ok: false } & QueryError {
  // [unconfirmed] code for $select (§12.4); the text is what OData/Graph print for unknown properties.
  return queryError(400, 'Request_BadRequest', `Could not find a property named '${name}' on type '${typeName}'.`);
}

// ---------------------------------------------------------------------------------------------
// $select

export type SelectContext = 'collection' | 'single' | 'delta';

export interface SelectOptions {
  extensionNames: ReadonlySet<string>;
  context: SelectContext;
}

export interface SelectResult {
  /** Canonical names to project, `id` always included (appended when not asked for); null = no $select (defaults). */
  props: string[] | null;
  /** Canonical names as the client listed them (deduplicated), for `@odata.context`; null = no $select. */
  requested: string[] | null;
}

export function parseSelect(resource: Resource, raw: string | null, opts: SelectOptions): QueryResult<SelectResult> {
  if (raw === null || raw.trim() === '') return { ok: true, props: null, requested: null };
  const def = RESOURCES[resource];
  const requested: string[] = [];
  const resolved: PropertyDef[] = [];
  for (const item of raw.split(',')) {
    const name = item.trim();
    if (name === '' || /[/()]/.test(name)) {
      // Paths (`onPremisesExtensionAttributes/extensionAttribute1`) are not selectable: §2.2 "selectable only as a whole".
      return queryError(400, 'Request_BadRequest', `Term '${raw}' is not valid in a $select or $expand expression.`);
    }
    const p = findProperty(resource, name, opts.extensionNames);
    if (!p) return unknownPropertyError(def.typeName, name);
    if (!requested.includes(p.name)) {
      requested.push(p.name);
      resolved.push(p);
    }
  }
  if (opts.context !== 'single' && resolved.some((p) => p.collectionUnreadable)) {
    return queryError(501, 'NotImplemented', 'This operation target is not yet supported.');
  }
  const props = requested.includes('id') ? [...requested] : [...requested, 'id'];
  return { ok: true, props, requested };
}

// ---------------------------------------------------------------------------------------------
// Projection and @odata.context

/**
 * Shapes a stored entity for the wire: exactly the selected properties (defaults when `props` is null),
 * unset → null, unset collections → [], onPremisesExtensionAttributes always a full object.
 * Navigation properties (manager, members…) are never emitted here: Graph returns them only through
 * $expand or `…@delta`, which the caller adds. Unset directory extensions are omitted, as Graph does.
 */
export function projectEntity(
  resource: Resource,
  entity: Record<string, unknown>,
  props: readonly string[] | null,
): Record<string, unknown> {
  const names = props ?? defaultProperties(resource);
  const out: Record<string, unknown> = {};
  for (const name of names) {
    const def = BY_LOWER_NAME[resource].get(name.toLowerCase());
    if (!def) {
      // Only extensions reach here (parseSelect validated the names).
      const value = entity[name];
      if (value !== undefined && value !== null) out[name] = structuredClone(value);
      continue;
    }
    if (def.kind === 'navigation') continue;
    out[def.name] = projectValue(def, entity[def.name]);
  }
  return out;
}

function projectValue(def: PropertyDef, value: unknown): unknown {
  if (def.collection) return Array.isArray(value) ? structuredClone(value) : [];
  if (def.kind === 'complex' && def.subProperties) {
    if ((value === undefined || value === null) && !def.alwaysObject) return null;
    const source = (value ?? {}) as Record<string, unknown>;
    const obj: Record<string, unknown> = {};
    for (const sub of def.subProperties) obj[sub.name] = projectValue(sub, source[sub.name]);
    return obj;
  }
  if (value === undefined || value === null) return null;
  return typeof value === 'object' ? structuredClone(value) : value;
}

/**
 * `https://graph.microsoft.com/v1.0/$metadata#users(id,displayName)` for a collection,
 * `…#users/$entity` / `…#users(id,displayName)/$entity` for a single entity.
 * `graphBase` is scheme + host (+ port); a trailing `/v1.0` is tolerated.
 */
export function contextUrl(
  graphBase: string,
  entitySet: string,
  props: readonly string[] | null,
  kind: 'collection' | 'entity',
): string {
  const base = `${graphBase.replace(/\/+$/, '').replace(/\/v1\.0$/, '')}/v1.0`;
  const selection = props && props.length > 0 ? `(${props.join(',')})` : '';
  return `${base}/$metadata#${entitySet}${selection}${kind === 'entity' ? '/$entity' : ''}`;
}

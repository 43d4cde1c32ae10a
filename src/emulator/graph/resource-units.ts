// Resource units Graph charges per identity request (reported in x-ms-resource-unit), per the
// throttling-limits page: base cost by request type, then $select −1, $expand +1, $top < 20 −1, never below 1.

export function resourceUnits(method: string, path: string, query: URLSearchParams): number {
  if (method !== 'GET') return 1;
  const segments = path.split('/').filter(Boolean);
  const nav = segments[2];
  let cost = 1;
  if (segments[0] === 'users' && segments.length === 1) cost = 2;
  else if (segments[0] === 'groups' && nav === 'members') cost = 3;
  else if (segments[0] === 'groups' && nav === 'transitiveMembers') cost = 5;
  else if (segments[0] === 'users' && (nav === 'memberOf' || nav === 'transitiveMemberOf')) cost = 2;
  if (query.has('$select')) cost -= 1;
  if (query.has('$expand')) cost += 1;
  const top = Number(query.get('$top'));
  if (query.has('$top') && top < 20) cost -= 1;
  return Math.max(1, cost);
}

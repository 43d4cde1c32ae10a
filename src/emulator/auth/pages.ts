// What the emulator's HTML pages (admin consent, sign-in) share: escaping, and the request's parameters carried
// through a form that GETs the same endpoint again.

export const escapeHtml = (text: string) =>
  text.replace(/[&<>"']/g, (ch) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[ch]!);

/** Hidden inputs for every query parameter except `except` (the one the page's buttons set). */
export function hiddenFields(query: URLSearchParams, except: string): string {
  return [...query]
    .filter(([k]) => k !== except)
    .map(([k, v]) => `<input type="hidden" name="${escapeHtml(k)}" value="${escapeHtml(v)}">`)
    .join('');
}

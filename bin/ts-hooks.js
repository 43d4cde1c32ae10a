// Node runs TypeScript by stripping its types, but never inside node_modules. When usersync is installed as another
// project's dependency (to use its emulator), this hook strips the types of usersync's own .ts files there.
import { readFileSync } from 'node:fs';
import { registerHooks, stripTypeScriptTypes } from 'node:module';
import { fileURLToPath } from 'node:url';

const root = new URL('..', import.meta.url).href;
// stripTypeScriptTypes is what Node itself runs .ts files with; its "experimental" warning would only confuse.
const emitWarning = process.emitWarning;
process.emitWarning = (warning, ...rest) =>
  String(warning).includes('stripTypeScriptTypes') ? undefined : emitWarning.call(process, warning, ...rest);

registerHooks({
  load(url, context, nextLoad) {
    if (!url.startsWith(root) || !url.endsWith('.ts') || url.slice(root.length).startsWith('node_modules/'))
      return nextLoad(url, context);
    const source = stripTypeScriptTypes(readFileSync(fileURLToPath(url), 'utf8'), { mode: 'strip' });
    return { format: 'module', source, shortCircuit: true };
  },
});

// Preloaded with `node --require` to work around a quadratic slowdown in @useoptic/optic 1.0.9:
// every allOf property merge calls sourcemapReader(), which re-parses the whole spec file.
// Caching the reader per sourcemap gives identical output (~15 s instead of ~5 min here).
const path = require('path');
try {
  const pkg = require.resolve('@useoptic/openapi-utilities/package.json', { paths: [__dirname] });
  const mod = require(path.join(path.dirname(pkg), 'build/openapi3/implementations/openapi3/sourcemap-reader.js'));
  const orig = mod.sourcemapReader;
  const cache = new WeakMap();
  mod.sourcemapReader = (sm) => {
    const key = sm.files.map((f) => `${f.path}:${f.contents.length}`).join('|');
    let hit = cache.get(sm);
    if (!hit || hit.key !== key) { hit = { key, reader: orig(sm) }; cache.set(sm, hit); }
    return hit.reader;
  };
} catch (e) {
  process.stderr.write(`optic-memo: not applied (${e.message}); optic will be slow\n`);
}

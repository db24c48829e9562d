// Writes NAME.br beside every .wasm, .js, .css and .svg file under a directory (brotli,
// quality 11), using Node's own zlib, so release builds need no extra system package.
const fs = require('node:fs');
const path = require('node:path');
const zlib = require('node:zlib');

function walk(dir) {
  for (const entry of fs.readdirSync(dir, { withFileTypes: true })) {
    const file = path.join(dir, entry.name);
    if (entry.isDirectory()) {
      walk(file);
    } else if (/\.(wasm|js|css|svg)$/.test(entry.name)) {
      const compressed = zlib.brotliCompressSync(fs.readFileSync(file), {
        params: { [zlib.constants.BROTLI_PARAM_QUALITY]: 11 },
      });
      fs.writeFileSync(`${file}.br`, compressed);
    }
  }
}

walk(process.argv[2] ?? '.');

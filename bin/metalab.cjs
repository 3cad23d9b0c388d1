#!/usr/bin/env node
// The `metalab` command: the built CLI bundle (`npm run build` makes it; `npm install` runs the build).
const path = require('node:path');
const fs = require('node:fs');

const cli = path.join(__dirname, '..', 'dist', 'main', 'cli.cjs');
if (!fs.existsSync(cli)) {
  process.stderr.write(`metalab is not built yet: run \`npm run build\` in ${path.dirname(__dirname)}\n`);
  process.exit(1);
}
require(cli);

// Writes daemon/tlds.c, the top-level domains X's URL finder knows, from
// twitter-text's regexp/validGTLD.js and validCCTLD.js (Apache License 2.0,
// Copyright 2018 Twitter, Inc.). Run with twitter-text where node finds it:
//   npm install --prefix /tmp/tt twitter-text@3.1.0
//   NODE_PATH=/tmp/tt/node_modules node scripts/gen-tlds.js > daemon/tlds.c
'use strict';
const version = require('twitter-text/package.json').version;
const lists = ['validGTLD', 'validCCTLD'].map((f) => {
  const src = require('twitter-text/dist/regexp/' + f).source;
  const m = src.match(/^\(\?:\(\?:(.*)\)\(\?=/);
  if (!m) throw new Error(f + ': unexpected form');
  return m[1].split('|');
});
const all = [...new Set([].concat(...lists))];
// Byte order of the UTF-8 forms, as strcmp sorts them.
all.sort((a, b) => Buffer.compare(Buffer.from(a), Buffer.from(b)));
const esc = (s) => [...Buffer.from(s)].map((b) =>
  b < 0x80 ? String.fromCharCode(b) : '\\' + b.toString(8)).join('');
const out = [];
out.push('/*');
out.push(' * The top-level domains X counts a link without a scheme by ("example.org"),');
out.push(' * ' + all.length + ' of them in byte order: twitter-text ' + version + "'s validGTLD and");
out.push(' * validCCTLD (Apache License 2.0, Copyright 2018 Twitter, Inc.). Generated');
out.push(' * by scripts/gen-tlds.js; do not edit.');
out.push(' */');
out.push('#include <config.h>');
out.push('');
out.push('#include <stddef.h>');
out.push('');
out.push('#include "tlds.h"');
out.push('');
out.push('const char *const tlds[] = {');
let line = '\t';
for (const t of all) {
  const item = '"' + esc(t) + '", ';
  if (line.length + item.length > 76) { out.push(line.trimEnd()); line = '\t'; }
  line += item;
}
out.push(line.trimEnd());
out.push('};');
out.push('');
out.push('const size_t ntlds = sizeof(tlds) / sizeof(tlds[0]);');
console.log(out.join('\n'));

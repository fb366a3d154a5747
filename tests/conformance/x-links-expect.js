// Reads a JSON list of texts on stdin and writes x-links.json: each text
// with the weighted length and validity twitter-text's parseTweet gives.
'use strict';
const tt = require('twitter-text');
const version = require('twitter-text/package.json').version;
const texts = JSON.parse(require('fs').readFileSync(0, 'utf8'));
const cases = texts.map((text, i) => {
  const r = tt.parseTweet(text);
  return { description: 'text ' + (i + 1) + ': ' +
      JSON.stringify(tt.extractUrlsWithIndices(text).map((u) => u.url)),
    text: text, expected: { weightedLength: r.weightedLength, valid: r.valid } };
});
process.stdout.write(JSON.stringify({ source: 'twitter-text ' + version +
    ' parseTweet, by tests/conformance/x-links-gen.sh', tests: { XLinks: cases } },
    null, 0).replace(/\},\{"description"/g, '},\n{"description"') + '\n');

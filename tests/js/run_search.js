// Runs kb's site search (kb/site/assets/search.js) under Node on questions, for the parity tests:
//   node run_search.js INDEX.json QUESTIONS.json  ->  one JSON answer per question on stdout
"use strict";
const fs = require("fs");
const path = require("path");
const kbSearch = require(path.join(__dirname, "..", "..", "kb", "site", "assets", "search.js"));
const data = JSON.parse(fs.readFileSync(process.argv[2], "utf8"));
const input = JSON.parse(fs.readFileSync(process.argv[3], "utf8"));
const index = new kbSearch.Index(data);
const out = {
  stems: (input.words || []).map(kbSearch.stem),
  distances: (input.pairs || []).map((p) => kbSearch.typoDistance(p[0], p[1])),
  shown: (input.strengths || []).map(kbSearch.shown),
  answers: (input.questions || []).map((q) => {
    const result = index.search(q, input.limit || 10);
    if (result.error) return { error: result.error };
    return {
      ranked: index.rank(result.query).map((pair) => [data.claims[pair[1]][0], pair[0]]),
      corrections: result.query.corrections,
      unknown: result.query.unknown,
      disputes: result.disputes.map((d) => d[0]),
      pages: result.pages.map((pair) => [data.pages[pair[1]][1], pair[0]]),
    };
  }),
};
process.stdout.write(JSON.stringify(out));

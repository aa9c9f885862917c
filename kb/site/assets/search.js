/* kb: the site's search box. The same analysis and ranking as `kb search` (kb/search.py, whose
 * docstring describes them): every function below mirrors one there, and tests run both on the
 * same questions. The index (search-index.js, written by kb build) is plain data; this file
 * fetches nothing from another host. Text from the knowledge base is only ever set as text. */
(function (root) {
  "use strict";

  // ---- Porter stemmer (kb/stem.py) ----
  var VOWELS = "aeiou";
  function consonant(w, i) {
    var ch = w[i];
    if (VOWELS.indexOf(ch) >= 0) return false;
    if (ch === "y") return i === 0 || !consonant(w, i - 1);
    return true;
  }
  function measure(s) {
    var m = 0, i = 0, n = s.length;
    while (i < n && consonant(s, i)) i++;
    while (i < n) {
      while (i < n && !consonant(s, i)) i++;
      if (i >= n) break;
      m++;
      while (i < n && consonant(s, i)) i++;
    }
    return m;
  }
  function hasVowel(s) {
    for (var i = 0; i < s.length; i++) if (!consonant(s, i)) return true;
    return false;
  }
  function doubleConsonant(w) {
    var n = w.length;
    return n >= 2 && w[n - 1] === w[n - 2] && consonant(w, n - 1);
  }
  function cvc(w) {
    var n = w.length;
    if (n < 3) return false;
    if (!consonant(w, n - 1) || consonant(w, n - 2) || !consonant(w, n - 3)) return false;
    return "wxy".indexOf(w[n - 1]) < 0;
  }
  function ends(w, s) {
    return w.length >= s.length && w.slice(w.length - s.length) === s;
  }
  var STEP2 = [["ational", "ate"], ["tional", "tion"], ["enci", "ence"], ["anci", "ance"], ["izer", "ize"],
    ["bli", "ble"], ["alli", "al"], ["entli", "ent"], ["eli", "e"], ["ousli", "ous"], ["ization", "ize"],
    ["ation", "ate"], ["ator", "ate"], ["alism", "al"], ["iveness", "ive"], ["fulness", "ful"],
    ["ousness", "ous"], ["aliti", "al"], ["iviti", "ive"], ["biliti", "ble"], ["logi", "log"]];
  var STEP3 = [["icate", "ic"], ["ative", ""], ["alize", "al"], ["iciti", "ic"], ["ical", "ic"], ["ful", ""],
    ["ness", ""]];
  var STEP4 = ["al", "ance", "ence", "er", "ic", "able", "ible", "ant", "ement", "ment", "ent", "ion", "ou",
    "ism", "ate", "iti", "ous", "ive", "ize"];
  function longest(w, suffixes) {
    var best = null;
    for (var i = 0; i < suffixes.length; i++) {
      if (ends(w, suffixes[i]) && (best === null || suffixes[i].length > best.length)) best = suffixes[i];
    }
    return best;
  }
  function replace(w, rules, minimum) {
    var suffixes = rules.map(function (r) { return r[0]; });
    var suffix = longest(w, suffixes);
    if (suffix === null) return w;
    var stem = w.slice(0, w.length - suffix.length);
    if (measure(stem) > minimum) return stem + rules[suffixes.indexOf(suffix)][1];
    return w;
  }
  function stem(word) {
    if (word.length <= 2) return word;
    var w = word;
    if (ends(w, "sses") || ends(w, "ies")) w = w.slice(0, -2);
    else if (ends(w, "ss")) { /* stays */ }
    else if (ends(w, "s")) w = w.slice(0, -1);
    if (ends(w, "eed")) {
      if (measure(w.slice(0, -3)) > 0) w = w.slice(0, -1);
    } else {
      var suffixes = ["ed", "ing"];
      for (var k = 0; k < suffixes.length; k++) {
        var sfx = suffixes[k];
        if (ends(w, sfx) && hasVowel(w.slice(0, w.length - sfx.length))) {
          w = w.slice(0, w.length - sfx.length);
          if (ends(w, "at") || ends(w, "bl") || ends(w, "iz")) w += "e";
          else if (doubleConsonant(w) && "lsz".indexOf(w[w.length - 1]) < 0) w = w.slice(0, -1);
          else if (measure(w) === 1 && cvc(w)) w += "e";
          break;
        }
      }
    }
    if (ends(w, "y") && hasVowel(w.slice(0, -1))) w = w.slice(0, -1) + "i";
    w = replace(w, STEP2, 0);
    w = replace(w, STEP3, 0);
    var s4 = longest(w, STEP4);
    if (s4 !== null) {
      var rest = w.slice(0, w.length - s4.length);
      if (measure(rest) > 1 && (s4 !== "ion" || ends(rest, "s") || ends(rest, "t"))) w = rest;
    }
    if (ends(w, "e")) {
      var r = w.slice(0, -1), m = measure(r);
      if (m > 1 || (m === 1 && !cvc(r))) w = r;
    }
    if (measure(w) > 1 && doubleConsonant(w) && ends(w, "l")) w = w.slice(0, -1);
    return w;
  }

  // ---- words (kb/search.py: fold, tokens) ----
  var TOKEN = /[\p{L}\p{N}]+/gu;
  var MARK = /\p{M}/gu;
  function fold(word) { return word.normalize("NFKD").replace(MARK, "").toLowerCase(); }
  function tokens(text) {
    var out = [], m;
    TOKEN.lastIndex = 0;
    while ((m = TOKEN.exec(text)) !== null) out.push([fold(m[0]), m.index, m.index + m[0].length]);
    return out;
  }
  function words(text) { return tokens(text).map(function (t) { return t[0]; }); }
  var stems = Object.create(null);
  function cachedStem(w) {
    var s = stems[w];
    if (s === undefined) { s = stem(w); stems[w] = s; }
    return s;
  }

  // ---- kb/english.py: comparative_bases ----
  function comparativeBases(word, stop) {
    var out = [];
    ["est", "er"].forEach(function (suffix) {
      if (!ends(word, suffix)) return;
      var s = word.slice(0, word.length - suffix.length);
      var candidates = [s, s + "e"];
      if (s.length >= 2 && s[s.length - 1] === s[s.length - 2] && "aeiouls".indexOf(s[s.length - 1]) < 0) {
        candidates.push(s.slice(0, -1));
      }
      if (ends(s, "i")) candidates.push(s.slice(0, -1) + "y");
      candidates.forEach(function (c) {
        if (c.length >= 3 && !stop.has(c) && out.indexOf(c) < 0) out.push(c);
      });
    });
    return out;
  }

  function comparativeForms(word, stop) {
    if (word.length < 3 || stop.has(word) || !/^\p{L}+$/u.test(word)) return [];
    var stems = [word], n = word.length;
    if (ends(word, "e")) stems = [word.slice(0, -1)];
    else if (ends(word, "y")) stems = [word.slice(0, -1) + "i"];
    else if (n >= 3 && "aeiouwxy".indexOf(word[n - 1]) < 0 && "aeiou".indexOf(word[n - 2]) >= 0 &&
             "aeiou".indexOf(word[n - 3]) < 0) stems = [word, word + word[n - 1]];
    var out = [];
    stems.forEach(function (s) { out.push(s + "er", s + "est"); });
    return out;
  }

  // ---- typos (kb/search.py: typo_distance, typo_budget) ----
  var ROWS = ["qwertyuiop", "asdfghjkl", "zxcvbnm"];
  var ADJACENT = (function () {
    var out = {};
    ROWS.forEach(function (row, r) {
      for (var c = 0; c < row.length; c++) {
        var near = [[r, c - 1], [r, c + 1], [r - 1, c], [r - 1, c + 1], [r + 1, c - 1], [r + 1, c]];
        var set = "";
        near.forEach(function (p) {
          if (p[0] >= 0 && p[0] < ROWS.length && p[1] >= 0 && p[1] < ROWS[p[0]].length) set += ROWS[p[0]][p[1]];
        });
        out[row[c]] = set;
      }
    });
    return out;
  })();
  var TYPO_VOWELS = "aeiouy";
  function substitution(a, b) {
    if (a === b) return 0;
    if ((ADJACENT[a] || "").indexOf(b) >= 0 || (TYPO_VOWELS.indexOf(a) >= 0 && TYPO_VOWELS.indexOf(b) >= 0)) return 1;
    return 2;
  }
  function typoDistance(a, b) {
    var rows = [[]];
    for (var j = 0; j <= b.length; j++) rows[0].push(j);
    for (var i = 1; i <= a.length; i++) {
      var row = [i];
      for (j = 1; j <= b.length; j++) {
        var best = Math.min(rows[i - 1][j] + 1, row[j - 1] + 1, rows[i - 1][j - 1] + substitution(a[i - 1], b[j - 1]));
        if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) best = Math.min(best, rows[i - 2][j - 2] + 1);
        row.push(best);
      }
      rows.push(row);
    }
    return rows[a.length][b.length];
  }
  var MIN_CORRECTED_LENGTH = 5, LONG_WORD = 9;
  function typoBudget(word) {
    if (word.length < MIN_CORRECTED_LENGTH) return 0;
    return word.length < LONG_WORD ? 1 : 2;
  }
  function isAlpha(word) { return /^\p{L}+$/u.test(word); }

  // ---- the index (kb/search.py: SearchIndex) ----
  function Index(data) {
    this.data = data;
    this.stop = new Set(data.stop);
    this.irregular = data.irregular;
    this.alias = data.alias;
    this.phrases = data.phrases;
    this.longestPhrase = 1;
    for (var key in data.phrases) this.longestPhrase = Math.max(this.longestPhrase, key.split(" ").length);
    this.claims = data.claims;
    this.fields = data.fields;
    this.boost = data.boost;
    this.postings = Object.create(null);
    for (var concept in data.postings) {
      var entry = data.postings[concept];
      this.postings[concept] = [entry[0], entry.slice(1).map(undelta)];
    }
    this.pages = data.pages || [];
    this.pagePostings = Object.create(null);
    var pagePostings = data.page_postings || {};
    for (var word in pagePostings) {
      var p = pagePostings[word];
      this.pagePostings[word] = [p[0], undelta(p[1]), undelta(p[2])];
    }
    this.byLetter = Object.create(null);
    var self = this;
    data.vocab.forEach(function (w) { (self.byLetter[w[0]] = self.byLetter[w[0]] || []).push(w); });
  }
  function undelta(ds) {
    var out = [], last = 0;
    for (var i = 0; i < ds.length; i++) { last += ds[i]; out.push(last); }
    return out;
  }
  function has(obj, key) { return Object.prototype.hasOwnProperty.call(obj, key); }
  Index.prototype.keyOf = function (word) {
    return cachedStem(has(this.irregular, word) ? this.irregular[word] : word);
  };
  Index.prototype.resolve = function (word) {
    var key = this.keyOf(word);
    if (has(this.alias, key)) return this.alias[key];
    if (key in this.postings) return key;
    var bases = comparativeBases(word, this.stop).concat(comparativeForms(word, this.stop));
    for (var i = 0; i < bases.length; i++) {
      var bk = this.keyOf(bases[i]);
      if (has(this.alias, bk)) return this.alias[bk];
      if (bk in this.postings) return bk;
    }
    return key;
  };
  Index.prototype.units = function (ws) {
    var kept = [], i;
    for (i = 0; i < ws.length; i++) if (!this.stop.has(ws[i])) kept.push([i, ws[i]]);
    var self = this;
    var keys = kept.map(function (p) { return self.keyOf(p[1]); });
    var out = [];
    i = 0;
    while (i < kept.length) {
      var matched = false;
      for (var len = Math.min(this.longestPhrase, kept.length - i); len > 1; len--) {
        var phrase = keys.slice(i, i + len).join(" ");
        if (has(this.phrases, phrase)) {
          out.push({ concept: this.phrases[phrase], words: kept.slice(i, i + len).map(function (p) { return p[1]; }).join(" "),
            first: kept[i][0], last: kept[i + len - 1][0], word: "" });
          i += len;
          matched = true;
          break;
        }
      }
      if (!matched) {
        out.push({ concept: this.resolve(kept[i][1]), words: kept[i][1], first: kept[i][0], last: kept[i][0], word: kept[i][1] });
        i++;
      }
    }
    return out;
  };
  Index.prototype.questionWords = function (ws) {
    var out = [], i = 0, qs = this.data.questions;
    while (i < ws.length) {
      var done = false;
      for (var k = 0; k < qs.length; k++) {
        var phrase = qs[k][0], word = qs[k][1];
        if (ws.slice(i, i + phrase.length).join(" ") === phrase.join(" ") && (this.resolve(word) in this.postings)) {
          out.push(word);
          i += phrase.length;
          done = true;
          break;
        }
      }
      if (!done) { out.push(ws[i]); i++; }
    }
    return out;
  };
  Index.prototype.conceptsOf = function (text) {
    return this.units(words(text)).map(function (u) { return u.concept; });
  };
  Index.prototype.correction = function (word) {
    var budget = typoBudget(word);
    if (budget === 0 || !isAlpha(word)) return null;
    var best = null, list = this.byLetter[word[0]] || [];
    for (var i = 0; i < list.length; i++) {
      var c = list[i];
      if (Math.abs(c.length - word.length) > budget) continue;
      var d = typoDistance(word, c);
      if (d <= budget && (best === null || d < best[0] || (d === best[0] && c < best[1]))) best = [d, c];
    }
    return best ? best[1] : null;
  };
  Index.prototype.closeWords = function (word) {
    if (word.length < 3 || !isAlpha(word)) return [];
    return (this.byLetter[word[0]] || []).filter(function (c) {
      return Math.abs(c.length - word.length) <= 1 && typoDistance(word, c) <= 1;
    });
  };

  // ---- queries (kb/search.py: split_query, parse_query, score_claims, rank) ----
  var QUOTES = "\"\u201c\u201d\u201e";
  function isSpace(ch) { return /\s/.test(ch); }
  function splitQuery(text) {
    var parts = [], i = 0, n = text.length;
    while (i < n) {
      var ch = text[i];
      if (isSpace(ch)) { i++; continue; }
      var exclude = ch === "-" && i + 1 < n && !isSpace(text[i + 1]);
      if (exclude) { i++; ch = text[i]; }
      var end;
      if (QUOTES.indexOf(ch) >= 0) {
        end = i + 1;
        while (end < n && QUOTES.indexOf(text[end]) < 0) end++;
        parts.push([exclude ? "exclude" : "phrase", text.slice(i + 1, end)]);
        i = end + 1;
      } else {
        end = i;
        while (end < n && !isSpace(text[end])) end++;
        parts.push([exclude ? "exclude" : "word", text.slice(i, end)]);
        i = end;
      }
    }
    return parts;
  }
  function uniq(list) {
    var seen = new Set(), out = [];
    list.forEach(function (x) { var k = JSON.stringify(x); if (!seen.has(k)) { seen.add(k); out.push(x); } });
    return out;
  }
  Index.prototype.parse = function (text) {
    var limits = this.data.limits;
    if (text.length > limits.query_chars) {
      return { error: "the query has " + text.length + " characters; at most " + limits.query_chars + " are allowed" };
    }
    var parts = splitQuery(text);
    var count = 0;
    parts.forEach(function (p) { count += tokens(p[1]).length; });
    if (count > limits.query_terms) {
      return { error: "the query has " + count + " words; at most " + limits.query_terms + " are allowed" };
    }
    var self = this, terms = [], corrections = [], unknown = [], close = [];
    function corrected(ws) {
      var fixed = ws.slice();
      self.units(ws).forEach(function (unit) {
        if (unit.word && !(unit.concept in self.postings)) {
          var r = self.correction(unit.word);
          if (r !== null) { corrections.push([unit.word, r]); fixed[unit.first] = r; }
        }
      });
      return self.units(fixed);
    }
    var plain = [];
    parts.forEach(function (p) { if (p[0] === "word") plain = plain.concat(words(p[1])); });
    corrected(this.questionWords(plain)).forEach(function (unit) {
      var found = unit.concept in self.postings;
      if (!found) {
        unknown.push(unit.words);
        if (unit.word) close = close.concat(self.closeWords(unit.word));
      }
      terms.push({ words: unit.words, kind: "word", concepts: [unit.concept], found: found });
    });
    parts.forEach(function (p) {
      if (p[0] === "word") return;
      var units = corrected(words(p[1]));
      if (!units.length) return;
      var missing = units.filter(function (u) { return !(u.concept in self.postings); }).map(function (u) { return u.words; });
      if (p[0] !== "exclude") unknown = unknown.concat(missing);
      terms.push({ words: units.map(function (u) { return u.words; }).join(" "), kind: p[0],
        concepts: units.map(function (u) { return u.concept; }), found: missing.length === 0 });
    });
    return { text: text, terms: terms, corrections: uniq(corrections), unknown: uniq(unknown), close: uniq(close) };
  };
  function scored(query) {
    var out = [];
    query.terms.forEach(function (t) {
      if (t.kind !== "exclude" && t.found) t.concepts.forEach(function (c) { if (out.indexOf(c) < 0) out.push(c); });
    });
    return out;
  }
  // kb/search.py: score_claims (the fields' scores, times the share of the query a claim covers)
  Index.prototype.scoreClaims = function (concepts) {
    var scores = new Map(), covered = new Map(), claims = this.claims, fields = this.fields, total = 0;
    for (var k = 0; k < concepts.length; k++) {
      var entry = this.postings[concepts[k]];
      if (entry === undefined) continue;
      var idf = entry[0], lists = entry[1], i, row, weight = idf * fields[0], having = new Set();
      total = total + idf;
      for (i = 0; i < lists[0].length; i++) {
        row = lists[0][i];
        scores.set(row, (scores.get(row) || 0) + weight * claims[row][7]);
        having.add(row);
      }
      for (var f = 1; f < 4; f++) {
        weight = idf * fields[f];
        for (i = 0; i < lists[f].length; i++) {
          row = lists[f][i];
          scores.set(row, (scores.get(row) || 0) + weight);
          having.add(row);
        }
      }
      having.forEach(function (r) { covered.set(r, (covered.get(r) || 0) + idf); });
    }
    scores.forEach(function (score, r) { scores.set(r, score * (covered.get(r) / total)); });
    return scores;
  };
  function hasSequence(seq, wanted) {
    var n = wanted.length;
    for (var i = 0; i + n <= seq.length; i++) {
      var ok = true;
      for (var j = 0; j < n; j++) if (seq[i + j] !== wanted[j]) { ok = false; break; }
      if (ok) return true;
    }
    return false;
  }
  Index.prototype.says = function (row, wanted) {
    var c = this.claims[row], self = this;
    var texts = [c[1], c[2].replace(/-/g, " ")].concat(c[3].map(function (t) { return t.replace(/-/g, " "); }));
    return texts.some(function (t) { return hasSequence(self.conceptsOf(t), wanted); });
  };
  function answerable(query) {
    var known = query.terms.filter(function (t) { return t.kind !== "exclude" && t.found; }).length;
    return known > 0 && query.unknown.length <= known;
  }
  Index.prototype.rank = function (query) {
    if (!answerable(query)) return [];
    var scores = this.scoreClaims(scored(query)), self = this, ranked = [];
    var required = query.terms.filter(function (t) { return t.kind === "phrase"; }).map(function (t) { return t.concepts; });
    var excluded = query.terms.filter(function (t) { return t.kind === "exclude" && t.found; }).map(function (t) { return t.concepts; });
    scores.forEach(function (relevance, row) {
      if (required.some(function (p) { return !self.says(row, p); })) return;
      if (excluded.some(function (p) { return self.says(row, p); })) return;
      ranked.push([relevance * (1 + self.boost * self.claims[row][4]), row]);
    });
    ranked.sort(function (a, b) { return b[0] - a[0] || a[1] - b[1]; });
    return ranked;
  };
  // kb/search.py: page_concepts and rank_pages (the site's other pages, offered after the claims)
  function pageConcepts(query) {
    var out = [];
    query.terms.forEach(function (t) {
      if (t.kind !== "exclude") t.concepts.forEach(function (c) { if (out.indexOf(c) < 0) out.push(c); });
    });
    return out;
  }
  var PAGE_FIELDS = [1.0, 0.5], MAX_PAGES = 5;
  Index.prototype.rankPages = function (query) {
    var postings = this.pagePostings, scores = new Map(), covered = new Map(), total = 0;
    pageConcepts(query).forEach(function (c) {
      if (!(c in postings)) return;
      var idf = postings[c][0], having = new Set();
      total = total + idf;
      for (var f = 0; f < 2; f++) {
        postings[c][f + 1].forEach(function (row) {
          scores.set(row, (scores.get(row) || 0) + idf * PAGE_FIELDS[f]);
          having.add(row);
        });
      }
      having.forEach(function (row) { covered.set(row, (covered.get(row) || 0) + idf); });
    });
    var leftOut = new Set();
    query.terms.forEach(function (t) {
      if (t.kind !== "exclude" || !t.concepts.length) return;
      var rows = null;
      t.concepts.forEach(function (c) {
        var here = new Set(c in postings ? postings[c][1].concat(postings[c][2]) : []);
        rows = rows === null ? here : new Set(Array.from(rows).filter(function (r) { return here.has(r); }));
      });
      rows.forEach(function (r) { leftOut.add(r); });
    });
    var ranked = [];
    scores.forEach(function (score, row) { if (!leftOut.has(row)) ranked.push([score * (covered.get(row) / total), row]); });
    ranked.sort(function (a, b) { return b[0] - a[0] || a[1] - b[1]; });
    return ranked.slice(0, MAX_PAGES);
  };
  Index.prototype.search = function (text, limit) {
    var query = this.parse(text);
    if (query.error) return query;
    var ranked = this.rank(query);
    var top = ranked.slice(0, limit || 10);
    return { query: query, total: ranked.length, hits: top, disputes: this.disputesOf(ranked.slice(0, 5), scored(query)),
      pages: this.rankPages(query) };
  };
  // kb/search.py: disputes_of
  Index.prototype.disputesOf = function (top, concepts) {
    var found = [], self = this;
    top.forEach(function (pair) {
      (self.data.dispute_of[String(pair[1])] || []).forEach(function (number) {
        var d = self.data.disputes[number];
        if (found.indexOf(d) < 0) found.push(d);
      });
    });
    function asked(d) {
      var said = new Set(self.conceptsOf(d[0])), named = new Set(self.conceptsOf(d[6].replace(/-/g, " ")));
      var total = 0;
      concepts.forEach(function (c) {
        if (!(c in self.postings)) return;
        var idf = self.postings[c][0];
        if (said.has(c)) total = total + idf;
        if (named.has(c)) total = total + idf * self.fields[1];
      });
      return total;
    }
    var scores = found.map(asked);
    var order = found.map(function (_, i) { return i; });
    order.sort(function (a, b) { return scores[b] - scores[a] || a - b; });
    return order.slice(0, 2).map(function (i) { return found[i]; });
  };
  Index.prototype.marks = function (text, concepts) {
    var found = tokens(text), spans = [];
    this.units(found.map(function (t) { return t[0]; })).forEach(function (u) {
      if (concepts.has(u.concept)) spans.push([found[u.first][1], found[u.last][2]]);
    });
    return spans;
  };

  // kb/weigh.py: shown (two decimals, half up), as every view shows a strength
  function shown(value) { return (Math.floor(value * 100 + 0.5 + 1e-9) / 100).toFixed(2); }

  var api = { stem: stem, shown: shown, fold: fold, tokens: tokens, typoDistance: typoDistance, splitQuery: splitQuery, Index: Index };
  if (typeof module !== "undefined" && module.exports) module.exports = api;
  root.kbSearch = api;

  // ---- the search box (browsers only) ----
  if (typeof document === "undefined") return;
  var script = document.currentScript;
  var base = script ? script.src.replace(/assets\/kb\/search\.js(\?.*)?$/, "") : "";

  function el(tag, cls, text) {
    var e = document.createElement(tag);
    if (cls) e.className = cls;
    if (text !== undefined) e.textContent = text;
    return e;
  }
  function marked(text, spans) {
    var frag = document.createDocumentFragment(), last = 0;
    spans.forEach(function (s) {
      frag.appendChild(document.createTextNode(text.slice(last, s[0])));
      frag.appendChild(el("mark", "", text.slice(s[0], s[1])));
      last = s[1];
    });
    frag.appendChild(document.createTextNode(text.slice(last)));
    return frag;
  }
  function badge(claim) {
    var b = el("span", "kb-badge kb-badge--" + claim[5], claim[5]);
    return b;
  }
  function strengthText(claim) { return "strength " + shown(claim[4]); }

  var index = null, loading = null;
  function load(done) {
    if (index) return done();
    if (root.kbSearchIndex) { index = new Index(root.kbSearchIndex); return done(); }
    if (!loading) {
      loading = [];
      var s = document.createElement("script");
      s.src = base + "search-index.js";
      s.onload = function () {
        index = new Index(root.kbSearchIndex);
        loading.forEach(function (f) { f(); });
      };
      document.head.appendChild(s);
    }
    loading.push(done);
  }

  function render(panel, text) {
    panel.textContent = "";
    panel.setAttribute("data-query", text);
    if (!text.trim()) { panel.hidden = true; return; }
    panel.hidden = false;
    var result = index.search(text, 10);
    if (result.error) { panel.appendChild(el("p", "kb-search__note", result.error)); return; }
    var q = result.query;
    q.corrections.forEach(function (c) {
      panel.appendChild(el("p", "kb-search__note", "no claim mentions \u2018" + c[0] + "\u2019: searched for \u2018" + c[1] + "\u2019 instead"));
    });
    if (q.unknown.length) {
      panel.appendChild(el("p", "kb-search__note", "no claim mentions " + q.unknown.map(function (w) { return "\u2018" + w + "\u2019"; }).join(", ") +
        (result.hits.length ? "; results are for the other words" : "")));
    }
    if (!result.hits.length) {
      if (!q.unknown.length) panel.appendChild(el("p", "kb-search__note", "no claim matches this question"));
      if (q.close.length) panel.appendChild(el("p", "kb-search__note", "did you mean: " + q.close.join(", ") + "?"));
      renderPages(panel, result.pages);
      return;
    }
    var claims = index.claims;
    result.disputes.forEach(function (d) {
      var box = el("div", "kb-search__dispute");
      box.appendChild(el("p", "kb-search__dispute-title", "The sources disagree: " + d[0]));
      var row = el("div", "kb-search__positions");
      d[1].forEach(function (pos, i) {
        var c = claims[pos[0]];
        var p = el("a", "kb-search__position");
        p.href = base + c[8];
        p.appendChild(el("span", "kb-search__strength", "strength " + shown(pos[2]) + " "));
        p.appendChild(el("span", "kb-badge kb-badge--" + pos[3], pos[3]));
        if (i === d[3]) p.appendChild(el("span", "kb-search__leader", " leads"));
        p.appendChild(el("span", "kb-search__statement", (pos[1] ? pos[1] + ": " : "") + c[1]));
        row.appendChild(p);
      });
      box.appendChild(row);
      if (d[5] > d[1].length) box.appendChild(el("p", "kb-search__verdict", "and " + (d[5] - d[1].length) + " more claims"));
      box.appendChild(el("p", "kb-search__verdict", "verdict: " + d[2] + (d[4] ? "" : " (not robust)")));
      panel.appendChild(box);
    });
    var concepts = new Set();
    q.terms.forEach(function (t) { if (t.kind !== "exclude" && t.found) t.concepts.forEach(function (c) { concepts.add(c); }); });
    var list = el("ol", "kb-search__hits");
    result.hits.forEach(function (pair) {
      var c = claims[pair[1]];
      var item = el("li", "kb-search__hit");
      item.setAttribute("data-claim", c[0]);
      var a = el("a", "kb-search__link");
      a.href = base + c[8];
      a.appendChild(marked(c[1], index.marks(c[1], concepts)));
      item.appendChild(a);
      var meta = el("div", "kb-search__meta");
      meta.appendChild(el("span", "kb-search__strength", strengthText(c) + " "));
      meta.appendChild(badge(c));
      meta.appendChild(el("span", "kb-search__topic", " topic: " + c[2]));
      item.appendChild(meta);
      if (c[6].length) {
        var against = c[6].slice().sort(function (x, y) {
          return claims[y][4] - claims[x][4] || (claims[x][0] < claims[y][0] ? -1 : 1);
        });
        var line = el("div", "kb-search__against", "contradicted by: ");
        against.forEach(function (r, i) {
          var link = el("a", "", claims[r][1]);
          link.href = base + claims[r][8];
          line.appendChild(link);
          line.appendChild(document.createTextNode(" (" + shown(claims[r][4]) + ", " + claims[r][5] + ")" + (i < against.length - 1 ? "; " : "")));
        });
        item.appendChild(line);
      }
      list.appendChild(item);
    });
    panel.appendChild(list);
    if (result.total > result.hits.length) {
      panel.appendChild(el("p", "kb-search__note", "showing " + result.hits.length + " of " + result.total + " matching claims"));
    }
    renderPages(panel, result.pages);
  }
  // the site's other pages that match, after the claims: title, what kind of page, summary
  var PAGE_KINDS = { page: "page", topic: "topic", source: "source" };
  function renderPages(panel, ranked) {
    if (!ranked.length) return;
    panel.appendChild(el("p", "kb-search__pages-title", "Pages"));
    var list = el("ul", "kb-search__pages");
    ranked.forEach(function (pair) {
      var page = index.pages[pair[1]];
      var item = el("li", "kb-search__page");
      item.setAttribute("data-page", page[1]);
      var a = el("a", "kb-search__link", page[0]);
      a.href = base + page[1];
      item.appendChild(a);
      item.appendChild(el("span", "kb-search__kind", " " + (PAGE_KINDS[page[3]] || "page")));
      if (page[2]) item.appendChild(el("div", "kb-search__summary", page[2]));
      list.appendChild(item);
    });
    panel.appendChild(list);
  }

  function install() {
    var form = el("form", "kb-search");
    form.setAttribute("role", "search");
    var input = el("input", "kb-search__input");
    input.type = "search";
    input.name = "q";
    input.placeholder = "Ask a question";
    input.setAttribute("aria-label", "Search the claims");
    input.maxLength = 500;
    input.autocomplete = "off";
    var panel = el("div", "kb-search__results");
    panel.hidden = true;
    panel.setAttribute("aria-live", "polite");
    form.appendChild(input);
    form.appendChild(panel);
    var header = document.querySelector(".md-header__inner");
    if (header) header.appendChild(form); else document.body.insertBefore(form, document.body.firstChild);
    var timer = null;
    function update() {
      clearTimeout(timer);
      timer = setTimeout(function () { load(function () { render(panel, input.value); }); }, 120);
    }
    input.addEventListener("input", update);
    input.addEventListener("focus", function () { load(function () {}); });
    form.addEventListener("submit", function (e) { e.preventDefault(); load(function () { render(panel, input.value); }); });
    document.addEventListener("keydown", function (e) {
      if (e.key === "Escape") { panel.hidden = true; input.blur(); }
    });
    var asked = new URLSearchParams(location.search).get("q");
    if (asked) { input.value = asked; load(function () { render(panel, asked); }); }
  }
  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", install);
  else install();
})(typeof window !== "undefined" ? window : globalThis);

// SPDX-License-Identifier: GPL-3.0-or-later
// Turns the word list of the npm package @pinyin-pro/data (json/complete.json, with
// json/traditional.json for traditional forms) into tts/data/lexicon.txt, the sorted
// word→pinyin table that tts/pinyin.c searches in place.
// Run once by hand when the source changes; the build never needs Node or npm.
//
//   node tts/data/convert-lexicon.mjs node_modules/@pinyin-pro/data > tts/data/lexicon.txt

import { readFileSync } from 'node:fs';
import { join } from 'node:path';

const TONE_MARKS = { '\u0304': 1, '\u0301': 2, '\u030c': 3, '\u0300': 4 };

// Syllabic nasals (嗯 ń, 呣 ḿ, 哼 hng) have no tone-numbered spelling that the
// cmn-latn-pinyin voice reads as one syllable; these are the readings announcers use.
const RESPELL = { n: 'en', ng: 'en', m: 'mu', hm: 'hen', hng: 'heng' };

// Words more frequent than this are kept even when they read exactly like their characters,
// because they still steer the segmentation towards the right word boundaries.
const KEEP_FREQ = 1e-11;

function numbered(syllable) {
	let tone = 5;
	let out = '';
	for (const ch of syllable.normalize('NFD')) {
		if (TONE_MARKS[ch]) tone = TONE_MARKS[ch];
		else if (ch === '\u0308') out = out.replace(/u$/, 'v');
		else out += ch;
	}
	out = RESPELL[out] ?? out;
	if (!/^[a-z]+$/.test(out)) throw new Error(`unexpected syllable ${syllable}`);
	return out + tone;
}

function cost(freq) {
	return Math.round(-Math.log10(freq) * 100);
}

const dir = process.argv[2] ?? 'node_modules/@pinyin-pro/data';
const pkg = JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8'));
const complete = JSON.parse(readFileSync(join(dir, 'json/complete.json'), 'utf8'));

const words = new Map();
for (const [word, [pinyin, freq]] of Object.entries(complete)) {
	const chars = [...word];
	const syllables = pinyin.trim().split(/\s+/).map(numbered);
	if (chars.length !== syllables.length) continue;
	words.set(word, { chars, syllables, freq });
}

// The source leaves out some characters that only occur inside words (不 among them); take
// their reading from the most frequent word that contains them.
const single = new Map();
for (const [word, e] of words) if (e.chars.length === 1) single.set(word, e.syllables[0]);
const borrowed = new Map();
for (const e of [...words.values()].sort((a, b) => b.freq - a.freq)) {
	e.chars.forEach((ch, i) => {
		if (!single.has(ch) && !borrowed.has(ch))
			borrowed.set(ch, { s: e.syllables[i], f: e.freq });
	});
}
for (const [ch, { s, f }] of borrowed) {
	words.set(ch, { chars: [ch], syllables: [s], freq: f });
	single.set(ch, s);
}
// 不 is borrowed from a word where it is already changed to bu2; its own tone is bu4, and
// the change before a fourth tone is made by tts/pinyin.c.
words.set('不', { chars: ['不'], syllables: ['bu4'], freq: words.get('一').freq });
single.set('不', 'bu4');

// Characters the word list lacks although bulletins may carry them: 〇 in dates written in
// Hanzi (二〇一四年), and traditional forms, read like their simplified ones.
const traditional = JSON.parse(readFileSync(join(dir, 'json/traditional.json'), 'utf8'));
words.set('〇', { chars: ['〇'], syllables: ['ling2'], freq: words.get('零').freq });
single.set('〇', 'ling2');
for (const [trad, simp] of Object.entries(traditional)) {
	if ([...trad].length !== 1 || single.has(trad) || !words.has(simp)) continue;
	const { syllables, freq } = words.get(simp);
	words.set(trad, { chars: [trad], syllables, freq });
	single.set(trad, single.get(simp));
}

const lines = [];
for (const [word, e] of words) {
	const plain = e.chars.every((ch, i) => single.get(ch) === e.syllables[i]);
	if (e.chars.length > 1 && plain && e.freq < KEEP_FREQ) continue;
	lines.push(Buffer.from(`${word}\t${e.syllables.join(' ')}\t${cost(e.freq)}\n`));
}
lines.sort(Buffer.compare);

process.stdout.write(`# cx-lexicon 1\n`);
process.stdout.write(`# from ${pkg.name} ${pkg.version} json/complete.json and` +
	` json/traditional.json, licence ${pkg.license}; see tts/data/README.md\n`);
process.stdout.write('# word<TAB>pinyin, tone 1-5, v for u-umlaut<TAB>' +
	'cost = 100 * -log10(frequency)\n');
process.stdout.write(`# sorted by the bytes of the word; ${lines.length} entries\n`);
for (const l of lines) process.stdout.write(l);

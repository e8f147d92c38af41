// SPDX-License-Identifier: GPL-3.0-or-later
// 村村响 web console: log in, compose from templates, preview, publish, watch, look back.
// It speaks only to the head-end that served it; every text from the server is set as text,
// never as markup.
'use strict';

const COLOUR_ZH = { white: '白色', blue: '蓝色', yellow: '黄色', orange: '橙色', red: '红色' };
const ACTION_ZH = { issue: '发布', change: '变更', lift: '解除' };
const KIND_ZH = { forecast: '天气预报', nowcast: '短时临近预报', warning: '预警信号',
  live: '现场广播' };
const RESULT_ZH = { played: '播完', preempted: '被预警中断', expired: '过期未播',
  'render failed': '合成失败', dropped: '未播' };

const state = {
  token: sessionStorage.getItem('cx-token') || '',
  setup: null,
  product: '', signal: '', colour: '', oldColour: '', action: 'issue',
  selected: new Set(),	// village codes
  applied: '',		// the text as the template last wrote it
  previewed: '',	// the request the last preview was of
  clientId: '',
  lastPublished: 0,
  status: null, warnings: null,
  view: 'compose',
};

const $ = (id) => document.getElementById(id);

function el(tag, attrs, ...children) {
  const e = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) {
    if (k === 'class') e.className = v;
    else if (k.startsWith('data-')) e.setAttribute(k, v);
    else if (k === 'text') e.textContent = v;
    else e[k] = v;
  }
  for (const c of children) if (c !== null && c !== undefined)
    e.append(c instanceof Node ? c : document.createTextNode(String(c)));
  return e;
}

function toast(msg) {
  const t = $('toast');
  t.textContent = msg;
  t.hidden = false;
  clearTimeout(toast.timer);
  toast.timer = setTimeout(() => { t.hidden = true; }, 6000);
}

// HTTP

async function api(path, opts = {}) {
  const headers = Object.assign({}, opts.headers || {});
  if (state.token) headers.Authorization = 'Bearer ' + state.token;
  if (opts.json !== undefined) {
    headers['Content-Type'] = 'application/json';
    opts.body = JSON.stringify(opts.json);
  }
  const r = await fetch(path, { method: opts.method || (opts.body ? 'POST' : 'GET'), headers,
    body: opts.body, cache: 'no-store' });
  if (r.status === 401 && path !== '/v1/login') {
    showLogin('登录已过期，请重新登录');
    throw new Error('未登录');
  }
  if (opts.blob) {
    if (!r.ok) throw new Error('无法取得音频（' + r.status + '）');
    return r.blob();
  }
  const body = await r.json().catch(() => ({}));
  if (!r.ok) {
    const e = new Error(body.error || ('HTTP ' + r.status));
    e.status = r.status;
    throw e;
  }
  return body;
}

async function audioInto(audio, path) {
  const blob = await api(path, { blob: true });
  if (audio.dataset.url) URL.revokeObjectURL(audio.dataset.url);
  audio.dataset.url = URL.createObjectURL(blob);
  audio.src = audio.dataset.url;
}

// Log in

function showLogin(message) {
  state.token = '';
  sessionStorage.removeItem('cx-token');
  $('app').hidden = true;
  $('login').hidden = false;
  $('login-error').textContent = message || '';
  $('login-name').focus();
}

async function login(ev) {
  ev.preventDefault();
  $('login-error').textContent = '';
  try {
    const r = await api('/v1/login', { json: { name: $('login-name').value.trim(),
      password: $('login-password').value } });
    state.token = r.token;
    sessionStorage.setItem('cx-token', r.token);
    $('login-password').value = '';
    await start();
  } catch (e) {
    $('login-error').textContent = e.status === 401 ? '用户名或密码错误' : e.message;
  }
}

async function start() {
  state.setup = await api('/v1/console/setup');
  $('login').hidden = true;
  $('app').hidden = false;
  $('who').textContent = state.setup.operator.replace(/ \(.*\)$/, '');
  $('observatory').textContent = state.setup.observatory;
  buildSignals();
  buildTree();
  buildPlaces();
  setProduct('');
  show('compose');
  poll();
}

// Compose

function choose(container, value) {
  for (const b of $(container).querySelectorAll('button'))
    b.classList.toggle('on', b.dataset.value === value);
}

function signalInfo(key) {
  return state.setup.signals.find((s) => s.key === key);
}

function buildSignals() {
  const box = $('signal');
  box.replaceChildren();
  for (const s of state.setup.signals)
    box.append(el('button', { 'data-value': s.key, text: s.name, type: 'button' }));
}

function colourButtons(container, colours, value) {
  const box = $(container);
  box.replaceChildren();
  for (const c of colours)
    box.append(el('button', { 'data-value': c, type: 'button',
      class: 'colour c-' + c + (c === value ? ' on' : ''), text: COLOUR_ZH[c] }));
}

// The colour a signal is active at in the chosen villages, from GET /v1/warnings.
function activeColour(signal) {
  const list = (state.warnings && state.warnings.active) || [];
  const hits = list.filter((w) => w.signal === signal);
  if (!hits.length) return '';
  const towns = selectedTowns();
  const inPlace = hits.find((w) => towns.some((t) => placesOf(w.where).has(t.name)));
  return (inPlace || hits[hits.length - 1]).colour;
}

function setProduct(p) {
  state.product = p;
  choose('product', p);
  $('warning-fields').hidden = p !== 'warning';
  refreshWarning();
}

function refreshWarning() {
  const s = state.signal && signalInfo(state.signal);
  choose('signal', state.signal);
  choose('action', state.action);
  $('old-colour-row').hidden = state.action !== 'change';
  $('colour-label').textContent = state.action === 'change' ? '新颜色' : '颜色';
  const colours = s ? s.colours : [];
  if (s && colours.length === 1) state.colour = colours[0];
  if (state.colour && !colours.includes(state.colour)) state.colour = '';
  colourButtons('colour', colours, state.colour);
  colourButtons('old-colour', colours, state.oldColour);
  buildTemplates();
  autoTemplate();
  updateRepeatNote();
  invalidate();
}

function templateChoices() {
  const t = state.setup.templates || {};
  const out = [];
  if (state.product === 'forecast' || state.product === 'nowcast') {
    const text = t.products && t.products[state.product];
    if (text) out.push({ name: KIND_ZH[state.product] + '模板', text });
  } else if (state.product === 'warning' && state.signal) {
    const own = (t.signals && t.signals[state.signal]) || {};
    const any = t.warning || {};
    const text = own[state.action] || any[state.action];
    const name = signalInfo(state.signal).name + ACTION_ZH[state.action] + '模板';
    if (text) out.push({ name, text });
    for (const a of ['issue', 'change', 'lift'])
      if (a !== state.action && (own[a] || any[a]))
        out.push({ name: signalInfo(state.signal).name + ACTION_ZH[a] + '模板', text: own[a] || any[a] });
  }
  return out;
}

function buildTemplates() {
  const sel = $('template');
  sel.replaceChildren();
  const list = templateChoices();
  list.forEach((t, i) => sel.append(el('option', { value: String(i), text: t.name })));
  sel.disabled = !list.length;
  $('apply-template').disabled = !list.length;
  if (!list.length) sel.append(el('option', { text: state.product === 'warning' ?
    '先选择信号' : '先选择产品' }));
}

function now() {
  const parts = {};
  const f = new Intl.DateTimeFormat('zh-CN', { timeZone: state.setup.time_zone,
    month: 'numeric', day: 'numeric', hour: 'numeric', minute: 'numeric', hourCycle: 'h23' });
  for (const p of f.formatToParts(new Date())) parts[p.type] = p.value;
  const minute = Number(parts.minute);
  return { date: Number(parts.month) + '月' + Number(parts.day) + '日',
    time: Number(parts.hour) + '时' + (minute ? minute + '分' : '') };
}

function fillTemplate(text) {
  const t = now();
  const s = state.signal ? signalInfo(state.signal) : null;
  const fields = {
    '气象台': state.setup.observatory, '日期': t.date, '时间': t.time,
    '地区': targetNames().join('、'), '信号': s ? s.name : '',
    '颜色': COLOUR_ZH[state.colour] || '', '原颜色': COLOUR_ZH[state.oldColour] || '',
  };
  return text.replace(/\{([^{}]+)\}/g, (m, k) => (fields[k] ? fields[k] : m));
}

function applyTemplate() {
  const list = templateChoices();
  const t = list[Number($('template').value) || 0];
  if (!t) return;
  $('text').value = state.applied = fillTemplate(t.text);
  $('template-note').textContent = '';
  checkText();
  invalidate();
}

// A template applied and not edited since follows the choices; an edited text is left alone.
function autoTemplate() {
  const text = $('text').value;
  if (text === '' || text === state.applied) applyTemplate();
  else $('template-note').textContent = '正文已修改，点「套用模板」可重新填入';
}

function checkText() {
  const text = $('text').value;
  const bytes = new TextEncoder().encode(text).length;
  $('text-count').textContent = bytes;
  const left = text.match(/\{[^{}]+\}/g);
  $('text-check').textContent = left ? '还有未填写的 ' + left.join(' ') :
    bytes > state.setup.max_text ? '超过 ' + state.setup.max_text + ' 字节' : '可以预览';
  $('text-check').className = left || bytes > state.setup.max_text ? 'error' : '';
  return !left && bytes > 0 && bytes <= state.setup.max_text;
}

function updateRepeatNote() {
  const r = state.setup.repeat;
  let n = r[state.product] || 0;
  if (state.product === 'warning')
    n = state.action === 'lift' ? r.lift : (r.colours[state.colour] || 0);
  $('repeat-note').textContent = state.product ? '默认重复 ' + n + ' 次（共播 ' + (n + 1) + ' 遍）' : '';
}

// Targets

function buildTree() {
  const z = state.setup.zones;
  const tree = $('tree');
  tree.replaceChildren();
  const all = el('input', { type: 'checkbox', id: 'all' });
  all.addEventListener('change', () => {
    for (const t of z.towns) for (const v of t.villages)
      if (all.checked) state.selected.add(v.code); else state.selected.delete(v.code);
    targetsChanged();
  });
  tree.append(el('div', { class: 'district' }, el('label', {}, all, ' ' + z.name,
    el('span', { class: 'count', text: z.endpoints + ' 个喇叭' }))));
  for (const t of z.towns) {
    const box = el('input', { type: 'checkbox', 'data-town': String(t.code) });
    box.addEventListener('change', () => {
      for (const v of t.villages)
        if (box.checked) state.selected.add(v.code); else state.selected.delete(v.code);
      targetsChanged();
    });
    const villages = el('div', { class: 'villages', hidden: true });
    for (const v of t.villages) {
      const vb = el('input', { type: 'checkbox', 'data-village': String(v.code) });
      vb.addEventListener('change', () => {
        if (vb.checked) state.selected.add(v.code); else state.selected.delete(v.code);
        targetsChanged();
      });
      villages.append(el('label', {}, vb, ' ' + v.name,
        el('span', { class: 'count', text: String(v.endpoints) })));
    }
    const expand = el('button', { type: 'button', class: 'expand', text: '村居 ▾' });
    expand.addEventListener('click', () => { villages.hidden = !villages.hidden; });
    tree.append(el('div', { class: 'town' }, el('label', {}, box, ' ' + t.name,
      el('span', { class: 'count', text: t.villages.length + ' 村居 · ' + t.endpoints + ' 个喇叭' })),
      expand, villages));
  }
}

function selectedTowns() {
  return state.setup.zones.towns.filter((t) => t.villages.some((v) => state.selected.has(v.code)));
}

// Names for the request: the district, whole towns, else town/village.
function targetNames() {
  const z = state.setup.zones;
  const towns = z.towns;
  if (towns.every((t) => t.villages.every((v) => state.selected.has(v.code)))) return [z.name];
  const names = [];
  for (const t of towns) {
    const chosen = t.villages.filter((v) => state.selected.has(v.code));
    if (chosen.length === t.villages.length) names.push(t.name);
    else for (const v of chosen) names.push(t.name + '/' + v.name);
  }
  return names;
}

function targetsChanged() {
  const z = state.setup.zones;
  let endpoints = 0;
  for (const t of z.towns) {
    const chosen = t.villages.filter((v) => state.selected.has(v.code));
    const box = document.querySelector('[data-town="' + t.code + '"]');
    box.checked = chosen.length === t.villages.length;
    box.indeterminate = chosen.length > 0 && chosen.length < t.villages.length;
    for (const v of t.villages) {
      document.querySelector('[data-village="' + v.code + '"]').checked = state.selected.has(v.code);
      if (state.selected.has(v.code)) endpoints += v.endpoints;
    }
  }
  $('all').checked = state.selected.size === z.towns.reduce((n, t) => n + t.villages.length, 0);
  const names = targetNames();
  $('target-summary').textContent = names.length ?
    '已选：' + names.join('、') + ' · ' + endpoints + ' 个喇叭' : '未选择';
  state.endpoints = endpoints;
  autoTemplate();
  if (state.product === 'warning' && state.action !== 'issue' && state.signal) {
    const c = activeColour(state.signal);
    if (c && state.action === 'lift' && !state.colour) { state.colour = c; refreshWarning(); }
    if (c && state.action === 'change' && !state.oldColour) { state.oldColour = c; refreshWarning(); }
  }
  invalidate();
}

// Preview and publish

function request() {
  const r = { text: $('text').value.trim(), kind: state.product, targets: targetNames() };
  if (state.product === 'warning')
    Object.assign(r, { signal: state.signal, colour: state.colour, action: state.action });
  const repeat = $('repeat').value.trim();
  if (repeat !== '') r.repeat = Number(repeat);
  return r;
}

function composeProblem() {
  if (!state.product) return '请选择产品';
  if (state.product === 'warning' && !state.signal) return '请选择预警信号';
  if (state.product === 'warning' && !state.colour) return '请选择颜色';
  if (!state.selected.size) return '请选择广播范围';
  if (!checkText()) return '正文还不能发布：' + $('text-check').textContent;
  return '';
}

function invalidate() {
  const same = state.previewed && state.previewed === JSON.stringify(request());
  $('publish-button').disabled = !same;
  $('publish-button').title = same ? '' : '请先试听预览当前内容';
}

async function preview() {
  $('compose-error').textContent = '';
  const problem = composeProblem();
  if (problem) { $('compose-error').textContent = problem; return; }
  const req = request();
  $('preview-button').disabled = true;
  $('preview-button').textContent = '正在合成…';
  try {
    const p = await api('/v1/console/preview', { json: req });
    await audioInto($('preview-audio'), p.audio);
    $('preview-meta').textContent = (p.warning ? p.warning.name + COLOUR_ZH[p.warning.colour] +
      '预警' + ACTION_ZH[p.warning.action] : KIND_ZH[p.kind]) + ' · 一遍 ' + p.seconds.toFixed(1) +
      ' 秒 × ' + p.plays + ' 遍，约 ' + Math.round(p.on_air_seconds) + ' 秒 · ' + p.targets + ' · ' +
      p.endpoints + ' 个喇叭';
    const body = $('preview-reading');
    body.replaceChildren();
    for (const s of p.sentences)
      body.append(el('tr', {}, el('td', { text: s.text }), el('td', { text: s.pinyin })));
    $('preview').hidden = false;
    state.previewed = JSON.stringify(req);
    state.previewInfo = p;
    state.clientId = 'console-' + crypto.getRandomValues(new Uint32Array(2)).join('-');
    invalidate();
  } catch (e) {
    $('compose-error').textContent = '预览失败：' + e.message;
  } finally {
    $('preview-button').disabled = false;
    $('preview-button').textContent = '试听预览';
  }
}

function askPublish() {
  const p = state.previewInfo;
  if (!p || $('publish-button').disabled) return;
  $('confirm-what').textContent = p.warning ? p.warning.name + COLOUR_ZH[p.warning.colour] +
    '预警信号（' + ACTION_ZH[p.warning.action] + '）' : KIND_ZH[p.kind];
  $('confirm-where').textContent = '范围：' + p.targets + '，共 ' + p.endpoints + ' 个喇叭';
  $('confirm-how').textContent = '播放 ' + p.plays + ' 遍，约 ' + Math.round(p.on_air_seconds) + ' 秒';
  $('confirm-text').textContent = request().text;
  $('confirm').showModal();
}

async function publish() {
  const req = Object.assign(request(), { client_id: state.clientId });
  try {
    const r = await api('/v1/bulletins', { json: req });
    state.lastPublished = r.id;
    toast('已发布：公告 ' + r.id + (r.duplicate ? '（此前已发布，未重复播出）' : ''));
    state.previewed = '';
    invalidate();
    show('live');
  } catch (e) {
    $('compose-error').textContent = '发布被拒绝：' + e.message;
  }
}

// Live view

// Towns named by a target list: "高明区", "杨和镇", "杨和镇/新圩村" or codes.
function placesOf(targets) {
  const z = state.setup.zones;
  const out = new Set();
  for (const raw of String(targets || '').split(/,\s*/)) {
    const name = raw.trim();
    if (!name) continue;
    if (name === z.name || name === String(z.code)) z.towns.forEach((t) => out.add(t.name));
    for (const t of z.towns)
      if (name === t.name || name.startsWith(t.name + '/') ||
          (/^\d{9,15}$/.test(name) && name.startsWith(String(t.code))))
        out.add(t.name);
  }
  return out;
}

function label(item) {
  const w = item.warning;
  if (!w) return el('span', { text: KIND_ZH[item.kind] || item.kind });
  const s = signalInfo(w.signal);
  return el('span', { class: 'chip c-' + w.colour,
    text: (s ? s.name : w.signal) + COLOUR_ZH[w.colour] + ' · ' + ACTION_ZH[w.action] });
}

function progress(item) {
  const pct = item.seconds_planned ? Math.min(100, 100 * item.seconds_sent / item.seconds_planned) : 0;
  const bar = el('div', { class: 'progress' }, el('span', {}));
  bar.firstChild.style.width = pct.toFixed(1) + '%';
  return el('div', {}, bar, el('span', { class: 'note', text: '第 ' + item.play + '/' + item.plays +
    ' 遍 · ' + item.seconds_sent.toFixed(0) + ' / ' + item.seconds_planned.toFixed(0) + ' 秒' }));
}

function renderLive() {
  const s = state.status;
  if (!s) return;
  const towns = $('towns');
  towns.replaceChildren();
  for (const t of state.setup.zones.towns) {
    const here = s.playing.filter((i) => placesOf(i.targets).has(t.name));
    const waiting = s.queued.filter((i) => placesOf(i.targets).has(t.name));
    const card = el('div', { class: 'town-card' + (here.length ? ' busy' : ''), 'data-town': t.name },
      el('h3', { text: t.name }));
    for (const i of here)
      card.append(el('div', { 'data-bulletin': String(i.id), class: 'on-air' },
        label(i), ' ', el('span', { class: 'state playing', text: '播出中' }), progress(i)));
    if (!here.length) card.append(el('div', { class: 'idle', text: '空闲' }));
    if (waiting.length) card.append(el('div', { class: 'note', text: '排队 ' + waiting.length + ' 条' }));
    towns.append(card);
  }
  const list = $('live-list');
  list.replaceChildren();
  for (const i of s.playing.concat(s.queued)) {
    const playing = s.playing.includes(i);
    list.append(el('tr', { class: playing ? 'playing' : '', 'data-bulletin': String(i.id) },
      el('td', { text: String(i.id) }), el('td', {}, label(i)),
      el('td', { text: i.targets + ' · ' + i.endpoints + ' 个喇叭' }),
      el('td', {}, playing ? progress(i) : el('span', { class: 'state',
        text: i.waiting_for ? '等待公告 ' + i.waiting_for : '排队' }))));
  }
  if (!list.children.length)
    list.append(el('tr', {}, el('td', { colSpan: 4, class: 'note', text: '当前没有播出' })));
  const recent = $('recent-list');
  recent.replaceChildren();
  for (const i of s.recent.slice(-10).reverse())
    recent.append(el('tr', {}, el('td', { text: String(i.id) }), el('td', {}, label(i)),
      el('td', { text: i.targets }), el('td', { text: i.seconds.toFixed(1) + ' 秒' }),
      el('td', { text: RESULT_ZH[i.result] || i.result })));
  const badge = $('live-badge');
  badge.hidden = !s.playing.length;
  badge.textContent = s.playing.length;
}

// Live announcement from the duty microphone (POST /v1/live, /v1/live/stop)

const ONAIR_ZH = { off: '未开始', waiting: '等待中', on_air: '播出中', ended: '已结束' };

function renderOnair() {
  const l = state.live;
  if (!l) return;
  const busy = l.state === 'on_air' || l.state === 'waiting';
  $('onair-start').disabled = busy;
  $('onair-stop').disabled = !busy;
  $('onair-state').textContent = (ONAIR_ZH[l.state] || l.state) +
    (l.targets ? ' · ' + l.targets + ' · ' + (l.seconds || 0).toFixed(0) + ' 秒' : '');
  const c = l.counters;
  $('onair-counters').textContent = !c ? '' : '采集 ' + c.frames_captured + ' 帧，发出 ' +
    c.frames_sent + ' 帧；溢出 ' + c.overruns + '，挂起 ' + c.suspends + '，设备故障 ' +
    c.device_errors + (c.device_down ? '（重连中）' : '') +
    (c.stalled ? '，麦克风无输入' : '') + (c.stalls ? '，中断 ' + c.stalls + ' 次' : '') + '，丢弃 ' + c.dropped + '，补静音 ' +
    c.inserted + (c.latency_ms ? '；采集到发出 中位 ' + c.latency_ms.p50.toFixed(0) + ' 毫秒，最大 ' +
    c.latency_ms.max.toFixed(0) + ' 毫秒' : '');
}

async function onairStart() {
  const targets = targetNames();
  if (!targets.length) return toast('请先在“编辑发布”中选择范围');
  try {
    state.live = await api('/v1/live', { json: { targets } });
    renderOnair();
  } catch (e) {
    toast(e.message);
  }
}

async function onairStop() {
  try {
    state.live = await api('/v1/live/stop', { json: {} });
    renderOnair();
  } catch (e) {
    toast(e.message);
  }
}

// Warnings per town

function renderWarnings() {
  const list = (state.warnings && state.warnings.active) || [];
  const towns = $('warning-towns');
  towns.replaceChildren();
  for (const t of state.setup.zones.towns) {
    const card = el('div', { class: 'town-card', 'data-town': t.name }, el('h3', { text: t.name }));
    const here = list.filter((w) => placesOf(w.where).has(t.name));
    for (const w of here) {
      const whole = w.where.split(/,\s*/).some((p) => p === t.name || p === state.setup.zones.name);
      card.append(el('div', {}, el('span', { class: 'chip c-' + w.colour,
        text: w.name + COLOUR_ZH[w.colour] + '预警' }), whole ? '' : el('span', { class: 'note', text: '（部分村居）' })));
    }
    if (!here.length) card.append(el('div', { class: 'idle', text: '无生效预警' }));
    towns.append(card);
  }
  const body = $('warning-list');
  body.replaceChildren();
  for (const w of list)
    body.append(el('tr', {}, el('td', {}, el('span', { class: 'chip c-' + w.colour,
      text: w.name + COLOUR_ZH[w.colour] })), el('td', { text: localTime(w.since) }),
      el('td', { text: w.where + '（' + w.villages + ' 个村居）' }),
      el('td', { text: w.next_broadcast ? localTime(w.next_broadcast) : '不重播' }),
      el('td', { text: String(w.bulletin) })));
  if (!list.length) body.append(el('tr', {}, el('td', { colSpan: 5, class: 'note', text: '目前没有生效的预警信号' })));
  $('warn-badge').hidden = !list.length;
  $('warn-badge').textContent = list.length;
}

function localTime(iso) {
  if (!iso) return '';
  return new Date(iso).toLocaleString('zh-CN', { timeZone: state.setup.time_zone, hourCycle: 'h23' });
}

// Today's slots

async function renderToday() {
  const t = await api('/v1/console/today');
  $('today-zone').textContent = t.time_zone + (t.timer ? ' · 定时播出' : ' · 由 cron 触发');
  const body = $('today-list');
  body.replaceChildren();
  for (const s of t.slots) {
    const st = s.staged;
    let badge;
    if (!st) badge = el('span', { class: 'state stale', text: '未暂存' });
    else if (st.played) badge = el('span', { class: 'state', text: '已播出' });
    else if (st.fresh) badge = el('span', { class: 'state fresh', text: '新鲜（' + Math.round(st.age_s / 60) + ' 分钟前）' });
    else badge = el('span', { class: 'state stale', text: '已过时效（' + Math.round(st.age_s / 60) + ' 分钟前）' });
    body.append(el('tr', { 'data-slot': s.time }, el('td', { text: s.time }),
      el('td', { text: KIND_ZH[s.product] || s.product }), el('td', { text: s.next }),
      el('td', { text: st ? st.text : '—' }),
      el('td', {}, badge, st && st.by ? el('div', { class: 'note', text: '由 ' + st.by + ' 于 ' + st.at }) : null),
      el('td', { text: s.result || '' })));
  }
}

// History

function buildPlaces() {
  const list = $('place-names');
  list.replaceChildren();
  const z = state.setup.zones;
  list.append(el('option', { value: z.name }));
  for (const t of z.towns) {
    list.append(el('option', { value: t.name }));
    for (const v of t.villages) list.append(el('option', { value: t.name + '/' + v.name }));
  }
}

function recordView(r, note) {
  const w = r.warning;
  const head = el('div', { class: 'meta' },
    r.started + ' 至 ' + r.ended.slice(11) + ' · 公告 ' + r.bulletin + ' · ',
    w ? el('span', { class: 'chip c-' + w.colour, text: w.name + COLOUR_ZH[w.colour] + ' · ' + ACTION_ZH[w.action] }) :
      KIND_ZH[r.kind],
    ' · ' + (r.operator ? '值班员 ' + r.operator.replace(/ \(.*\)$/, '') + ' · ' : '') + '来源 ' + r.source +
    ' · ' + r.targets + '（' + r.endpoints + ' 个喇叭）' + (note || ''));
  const audio = el('audio', { controls: true, preload: 'none' });
  const play = el('button', { type: 'button', text: '载入录音' });
  play.addEventListener('click', async () => {
    try { await audioInto(audio, '/v1/history/' + r.id + '.opus'); audio.play().catch(() => {}); play.hidden = true; } catch (e) { toast(e.message); }
  });
  const reading = el('details', {}, el('summary', { text: '读音' }));
  reading.addEventListener('toggle', async () => {
    if (!reading.open || reading.dataset.loaded) return;
    reading.dataset.loaded = '1';
    const full = await api('/v1/history/' + r.id);
    for (const s of full.reading || [])
      reading.append(el('div', { text: s.text }), el('div', { class: 'note', text: s.pinyin }));
  });
  return el('div', { class: 'record', 'data-record': r.id }, head, el('div', { class: 'text', text: r.text }),
    el('div', {}, play, ' ', audio, ' ', el('span', { class: 'note', text: r.seconds.toFixed(1) + ' 秒 · ' +
      (RESULT_ZH[r.result] || r.result) })), reading);
}

async function historyLatest() {
  const h = await api('/v1/history?limit=50');
  $('history-summary').textContent = '最近 ' + h.history.length + ' 次播出（' + h.time_zone + ' 时间）';
  $('history-list').replaceChildren(...h.history.map((r) => recordView(r)));
}

async function historyAt(ev) {
  ev.preventDefault();
  const target = $('history-target').value.trim();
  const at = $('history-at').value.trim().replace('T', ' ');
  try {
    const q = new URLSearchParams({ at });
    if (target) q.set('target', target);
    const h = await api('/v1/history?' + q);
    const list = $('history-list');
    list.replaceChildren();
    $('history-summary').textContent = h.target + ' 在 ' + h.from + ' 至 ' + h.to + '（' + h.time_zone +
      '）' + (h.heard.length ? '听到 ' + h.heard.length + ' 次播出：' : '没有听到任何播出。');
    for (const r of h.heard) list.append(recordView(r, ' · 该地 ' + r.villages_heard + ' 个村居收听'));
    if (!h.heard.length) {
      if (h.before) list.append(el('h3', { text: '此前最近一次' }), recordView(h.before));
      if (h.after) list.append(el('h3', { text: '此后第一次' }), recordView(h.after));
    }
  } catch (e) {
    $('history-summary').textContent = '查询失败：' + e.message;
  }
}

// CAP refused

async function renderCap() {
  const r = await api('/v1/cap/refused');
  $('cap-badge').hidden = !r.pending;
  $('cap-badge').textContent = r.pending;
  if (state.view !== 'cap') return;
  const list = $('cap-list');
  list.replaceChildren();
  for (const e of r.refused) {
    const a = e.alert || {};
    const open = el('button', { type: 'button', text: '在编辑器中打开' });
    open.addEventListener('click', () => {
      setProduct('warning');
      $('text').value = [a.headline, a.description, a.instruction].filter(Boolean).join('\n');
      state.applied = '';
      checkText();
      show('compose');
      toast('已载入 CAP 内容，请核对信号、颜色与范围后预览');
    });
    const done = el('button', { type: 'button', text: '标记已处理' });
    done.addEventListener('click', async () => {
      await api('/v1/cap/handled', { json: { id: e.id } });
      renderCap();
    });
    list.append(el('div', { class: 'record', 'data-refused': String(e.id) },
      el('div', { class: 'meta' }, e.at + ' · ' + e.status + ' · ' + (a.sender || '?') + ' · ' + (a.identifier || '?') +
        (e.handled ? ' · 已由 ' + (e.handled_by || '') + ' 处理' : '')),
      el('div', { class: 'error', text: e.reason }),
      el('div', { class: 'text', text: [a.event, a.msgType, (a.areaDesc || []).join('、'), a.headline]
        .filter(Boolean).join(' · ') }),
      el('div', {}, open, ' ', e.handled ? null : done)));
  }
  if (!r.refused.length) list.append(el('p', { class: 'note', text: '没有待处理的 CAP 消息' }));
}

// Views and polling

function show(view) {
  state.view = view;
  for (const b of $('tabs').querySelectorAll('button'))
    b.classList.toggle('active', b.dataset.view === view);
  for (const s of document.querySelectorAll('.view')) s.hidden = s.id !== 'view-' + view;
  if (view === 'today') renderToday().catch((e) => toast(e.message));
  if (view === 'history') historyLatest().catch((e) => toast(e.message));
  if (view === 'cap') renderCap().catch((e) => toast(e.message));
  if (view === 'warnings') renderWarnings();
  if (view === 'live') renderLive();
}

async function poll() {
  clearTimeout(poll.timer);
  if (!state.token) return;
  try {
    const [s, w, l] = await Promise.all([api('/v1/status'), api('/v1/warnings'),
      api('/v1/live')]);
    state.status = s;
    state.warnings = w;
    state.live = l;
    renderLive();
    renderOnair();
    if (state.view === 'warnings') renderWarnings();
    else {
      $('warn-badge').hidden = !w.active.length;
      $('warn-badge').textContent = w.active.length;
    }
    if (!(poll.n = (poll.n || 0) + 1) || poll.n % 10 === 1) renderCap().catch(() => {});
  } catch (e) {
    // The head-end may be restarting; the next round tries again.
  }
  poll.timer = setTimeout(poll, state.status && state.status.playing.length ? 500 : 1500);
}

function wire() {
  $('login-form').addEventListener('submit', login);
  $('logout').addEventListener('click', () => showLogin('已退出'));
  $('onair-start').addEventListener('click', onairStart);
  $('onair-stop').addEventListener('click', onairStop);
  for (const b of $('tabs').querySelectorAll('button'))
    b.addEventListener('click', () => show(b.dataset.view));
  $('product').addEventListener('click', (e) => {
    if (e.target.dataset.value) setProduct(e.target.dataset.value);
  });
  $('signal').addEventListener('click', (e) => {
    if (!e.target.dataset.value) return;
    state.signal = e.target.dataset.value;
    if (state.action !== 'issue') {
      state.colour = state.action === 'lift' ? activeColour(state.signal) : '';
      state.oldColour = state.action === 'change' ? activeColour(state.signal) : '';
    }
    refreshWarning();
  });
  $('action').addEventListener('click', (e) => {
    if (!e.target.dataset.value) return;
    state.action = e.target.dataset.value;
    if (state.signal && state.action === 'lift') state.colour = activeColour(state.signal) || state.colour;
    if (state.signal && state.action === 'change') state.oldColour = activeColour(state.signal);
    refreshWarning();
  });
  $('colour').addEventListener('click', (e) => {
    const c = e.target.closest('button');
    if (c) { state.colour = c.dataset.value; refreshWarning(); }
  });
  $('old-colour').addEventListener('click', (e) => {
    const c = e.target.closest('button');
    if (c) { state.oldColour = c.dataset.value; refreshWarning(); }
  });
  $('apply-template').addEventListener('click', applyTemplate);
  $('text').addEventListener('input', () => { checkText(); invalidate(); });
  $('repeat').addEventListener('input', invalidate);
  $('preview-button').addEventListener('click', preview);
  $('publish-button').addEventListener('click', askPublish);
  $('confirm').addEventListener('close', () => {
    if ($('confirm').returnValue === 'ok') publish();
  });
  $('history-form').addEventListener('submit', historyAt);
  $('history-latest').addEventListener('click', () => historyLatest().catch((e) => toast(e.message)));
}

wire();
if (state.token) start().catch(() => showLogin('')); else showLogin('');

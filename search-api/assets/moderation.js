// The moderators' page, served by search-api at /moderation (see search-api/src/page.rs).
//
// Security:
// - Bearer-only auth is the anti-CSRF measure: the moderator's token is kept in
//   sessionStorage (this tab only, gone when it closes) and sent as an Authorization header
//   on fetch calls to this origin. No cookie is used, so a request forged by another site
//   carries no credentials. The server checks the moderator role on every API call; this
//   page decides nothing.
// - Everything shown is built with DOM nodes and text (element.append(string) makes a text
//   node); no server text is ever parsed as HTML. Snippets, which the server HTML-escapes
//   except for <mark>, are split on the <mark> tags and each piece is decoded back to text.
'use strict';

(() => {
  const TOKEN_KEY = 'chansearch.moderator_token';
  const $ = (id) => document.getElementById(id);
  const enc = encodeURIComponent;

  let token = null;
  let rules = [];
  let editing = null; // {id, version} of the rule in the form, or null for a new rule
  let auditBefore = null;
  let reviewCursor = null;

  // ---- DOM helpers -------------------------------------------------------------------------

  /** An element with properties (or attributes) and children (nodes or text). */
  function el(tag, props, ...children) {
    const node = document.createElement(tag);
    for (const [key, value] of Object.entries(props || {})) {
      if (key === 'class') node.className = value;
      else if (key === 'dataset') Object.assign(node.dataset, value);
      else if (key.startsWith('on')) node.addEventListener(key.slice(2), value);
      else if (key in node) node[key] = value;
      else node.setAttribute(key, value);
    }
    for (const child of children) {
      if (child === null || child === undefined) continue;
      node.append(child instanceof Node ? child : String(child));
    }
    return node;
  }

  function emptyRow(columns, text) {
    return el('tr', {}, el('td', { colSpan: columns, class: 'empty' }, text));
  }

  /** A link to a post, only for http(s) URLs (never `javascript:` and the like). */
  function link(url, text) {
    let safe = false;
    try {
      safe = ['https:', 'http:'].includes(new URL(url).protocol);
    } catch {
      safe = false;
    }
    return safe
      ? el('a', { href: url, rel: 'noopener noreferrer', target: '_blank' }, text)
      : el('span', {}, text);
  }

  const ENTITIES = { '&lt;': '<', '&gt;': '>', '&amp;': '&', '&quot;': '"', '&#39;': "'" };

  /** The server's snippet escaping undone, as plain text. */
  function unescapeText(s) {
    return s.replace(/&(lt|gt|amp|quot|#39);/g, (entity) => ENTITIES[entity]);
  }

  /** Text and <mark> nodes for a snippet; nothing in it is parsed as HTML. */
  function snippetNodes(snippet) {
    const nodes = [];
    let marked = false;
    for (const piece of snippet.split(/(<\/?mark>)/)) {
      if (piece === '<mark>') marked = true;
      else if (piece === '</mark>') marked = false;
      else if (piece) {
        const text = unescapeText(piece);
        nodes.push(marked ? el('mark', {}, text) : document.createTextNode(text));
      }
    }
    return nodes;
  }

  function json(value) {
    return value === null || value === undefined ? '' : el('pre', {}, JSON.stringify(value, null, 1));
  }

  function say(id, text, ok) {
    const node = $(id);
    node.textContent = text;
    node.className = ok ? 'ok' : 'error';
  }

  function report(id, error, extra) {
    say(id, `${error.message}${extra || ''}`, false);
  }

  function status(text) {
    say('status', text, true);
  }

  // ---- API ---------------------------------------------------------------------------------

  class ApiError extends Error {
    constructor(status, code, message) {
      super(message);
      this.status = status;
      this.code = code;
    }
  }

  /** Calls the API with the bearer token; throws ApiError with the API's error message. */
  async function api(method, path, body) {
    const headers = { Authorization: `Bearer ${token}` };
    const init = { method, headers, credentials: 'omit', cache: 'no-store' };
    if (body !== undefined) {
      headers['Content-Type'] = 'application/json';
      init.body = JSON.stringify(body);
    }
    let response;
    try {
      response = await fetch(path, init);
    } catch {
      throw new ApiError(0, 'network', 'The server cannot be reached.');
    }
    const text = await response.text();
    let data = null;
    try {
      data = text ? JSON.parse(text) : null;
    } catch {
      data = null;
    }
    if (!response.ok) {
      const error = data && data.error;
      throw new ApiError(
        response.status,
        (error && error.code) || `http_${response.status}`,
        (error && error.message) || `HTTP ${response.status} ${response.statusText}`,
      );
    }
    return data;
  }

  /** An API call once signed in: a 401 (expired or revoked token) signs out. */
  async function call(method, path, body) {
    try {
      return await api(method, path, body);
    } catch (error) {
      if (error.status === 401) signOut(`Signed out: the server refused the token (${error.message}).`);
      throw error;
    }
  }

  // ---- Sign in -----------------------------------------------------------------------------

  /** The token's `sub`, for display only (the server verifies the token, not this page). */
  function tokenSub(jwt) {
    try {
      const part = jwt.split('.')[1].replace(/-/g, '+').replace(/_/g, '/');
      const padded = part + '='.repeat((4 - (part.length % 4)) % 4);
      const bytes = Uint8Array.from(atob(padded), (c) => c.charCodeAt(0));
      const claims = JSON.parse(new TextDecoder().decode(bytes));
      return typeof claims.sub === 'string' ? claims.sub : '?';
    } catch {
      return '?';
    }
  }

  async function signIn(candidate) {
    token = candidate.trim();
    say('signin-msg', 'Checking the token…', true);
    try {
      await api('GET', '/v1/rules');
    } catch (error) {
      token = null;
      sessionStorage.removeItem(TOKEN_KEY);
      if (error.status === 401) say('signin-msg', `Invalid token: ${error.message}`);
      else if (error.status === 403) say('signin-msg', `Not a moderator: ${error.message}`);
      else say('signin-msg', `Cannot sign in: ${error.message}`);
      return;
    }
    sessionStorage.setItem(TOKEN_KEY, token);
    $('token').value = '';
    say('signin-msg', '', true);
    $('whoami-sub').textContent = tokenSub(token);
    $('whoami').hidden = false;
    $('signin').hidden = true;
    $('app').hidden = false;
    showTab('rules');
  }

  function signOut(message) {
    token = null;
    sessionStorage.removeItem(TOKEN_KEY);
    for (const table of ['rules-table', 'audit-table', 'review-table', 'classifiers-table']) {
      $(table).tBodies[0].replaceChildren();
    }
    $('rule-form').hidden = true;
    $('preview-out').replaceChildren();
    $('app').hidden = true;
    $('whoami').hidden = true;
    $('signin').hidden = false;
    say('signin-msg', message || '', !message);
  }

  // ---- Tabs --------------------------------------------------------------------------------

  function showTab(name) {
    for (const tab of document.querySelectorAll('.tab')) {
      tab.setAttribute('aria-pressed', String(tab.dataset.tab === name));
    }
    for (const panel of document.querySelectorAll('.panel')) {
      panel.hidden = panel.id !== `tab-${name}`;
    }
    status('');
    if (name === 'rules') loadRules();
    else if (name === 'audit') loadAudit(false);
    else if (name === 'review') loadReview(false);
    else if (name === 'classifiers') loadClassifiers();
  }

  // ---- Rules -------------------------------------------------------------------------------

  async function loadRules() {
    const params = new URLSearchParams();
    for (const [name, id] of [['q', 'filter-q'], ['kind', 'filter-kind'], ['action', 'filter-action'], ['enabled', 'filter-enabled']]) {
      const value = $(id).value.trim();
      if (value) params.set(name, value);
    }
    try {
      const data = await call('GET', `/v1/rules?${params}`);
      rules = data.rules;
      const body = $('rules-table').tBodies[0];
      body.replaceChildren(...rules.map(ruleRow));
      if (!rules.length) body.append(emptyRow(10, 'no rules'));
      say('rules-msg', '');
    } catch (error) {
      report('rules-msg', error);
    }
  }

  function ruleRow(rule) {
    const regions = rule.regions || [];
    return el(
      'tr',
      { class: rule.enabled ? 'rule' : 'rule disabled', dataset: { id: rule.id } },
      el('td', { class: 'id' }, rule.id),
      el('td', { class: 'kind' }, rule.kind),
      el('td', { class: 'pattern' }, rule.pattern),
      el('td', { class: 'action' }, rule.action),
      el('td', { class: 'regions' }, regions.length ? regions.join(', ') : 'everywhere'),
      el('td', { class: 'category' }, rule.category || ''),
      el('td', { class: 'note' }, rule.note || ''),
      el('td', { class: 'enabled' }, rule.enabled ? 'yes' : 'no'),
      el('td', { class: 'version' }, rule.version),
      el(
        'td',
        { class: 'buttons' },
        el('button', { type: 'button', class: 'edit', onclick: () => openForm(rule) }, 'Edit'),
        el('button', { type: 'button', class: 'toggle', onclick: () => toggleRule(rule) }, rule.enabled ? 'Disable' : 'Enable'),
        el('button', { type: 'button', class: 'delete', onclick: () => deleteRule(rule) }, 'Delete'),
        el('button', { type: 'button', class: 'history', onclick: () => showHistory(rule.id) }, 'History'),
      ),
    );
  }

  function openForm(rule) {
    editing = rule ? { id: rule.id, version: rule.version } : null;
    $('form-title').textContent = rule ? `Edit rule ${rule.id} (version ${rule.version})` : 'New rule';
    $('f-kind').value = rule ? rule.kind : 'term';
    $('f-pattern').value = rule ? rule.pattern : '';
    $('f-action').value = rule ? rule.action : 'hide';
    $('f-regions').value = rule ? (rule.regions || []).join(', ') : '';
    $('f-category').value = (rule && rule.category) || '';
    $('f-note').value = (rule && rule.note) || '';
    $('f-enabled').checked = rule ? rule.enabled : true;
    $('f-reload').hidden = true;
    say('form-msg', '');
    $('preview-out').replaceChildren();
    $('rule-form').hidden = false;
    $('f-pattern').focus();
  }

  function draft() {
    return {
      kind: $('f-kind').value,
      pattern: $('f-pattern').value,
      action: $('f-action').value,
      regions: $('f-regions').value.split(',').map((r) => r.trim()).filter(Boolean),
      category: $('f-category').value.trim(),
      note: $('f-note').value.trim(),
      enabled: $('f-enabled').checked,
    };
  }

  async function saveRule(event) {
    event.preventDefault();
    const rule = draft();
    $('f-save').disabled = true;
    try {
      let saved;
      if (editing) {
        // An empty category clears it; `version` makes the server refuse a stale edit (409).
        saved = await call('PATCH', `/v1/rules/${enc(editing.id)}`, { ...rule, version: editing.version });
      } else {
        const body = { kind: rule.kind, pattern: rule.pattern, action: rule.action, regions: rule.regions, enabled: rule.enabled };
        if (rule.category) body.category = rule.category;
        if (rule.note) body.note = rule.note;
        saved = await call('POST', '/v1/rules', body);
      }
      $('rule-form').hidden = true;
      editing = null;
      await loadRules();
      status(`Saved rule ${saved.id} (version ${saved.version}).`);
    } catch (error) {
      if (error.status === 409 && editing) {
        say('form-msg', `Conflict: ${error.message}. Someone changed this rule after you opened it. ` +
          'Reload it to see the current version (your unsaved edits are discarded), then edit again.');
        $('f-reload').hidden = false;
      } else {
        report('form-msg', error);
      }
    } finally {
      $('f-save').disabled = false;
    }
  }

  async function reloadRule() {
    if (!editing) return;
    try {
      const fresh = await call('GET', `/v1/rules/${enc(editing.id)}`);
      openForm(fresh);
      say('form-msg', `Reloaded version ${fresh.version}.`, true);
    } catch (error) {
      report('form-msg', error);
    }
  }

  async function previewRule() {
    const rule = draft();
    const out = $('preview-out');
    out.replaceChildren(el('p', {}, 'Previewing…'));
    try {
      const data = await call('POST', '/v1/rules/preview', {
        kind: rule.kind, pattern: rule.pattern, action: rule.action, regions: rule.regions,
      });
      const sample = data.sample || [];
      out.replaceChildren(
        el('p', { id: 'preview-count', dataset: { matches: String(data.matches) } },
          `${data.matches} indexed post(s) match this draft` + (sample.length ? `; ${sample.length} shown:` : '.')),
        ...sample.map(sampleHit),
      );
    } catch (error) {
      out.replaceChildren(el('p', { id: 'preview-error', class: 'error' }, error.message));
    }
  }

  function sampleHit(hit) {
    return el(
      'div',
      { class: 'sample' },
      el('div', { class: 'meta' }, link(hit.url, `@${hit.channel}/${hit.post_id}`),
        ` · ${hit.date} · ${hit.lang || '?'} · ${hit.views ?? 0} views`),
      el('div', { class: 'snippet' }, ...snippetNodes(hit.snippet || '')),
    );
  }

  async function toggleRule(rule) {
    let problem = null;
    try {
      const saved = await call('PATCH', `/v1/rules/${enc(rule.id)}`, { enabled: !rule.enabled, version: rule.version });
      status(`Rule ${saved.id} ${saved.enabled ? 'enabled' : 'disabled'}.`);
    } catch (error) {
      problem = error;
    }
    await loadRules();
    if (problem) report('rules-msg', problem, problem.status === 409 ? ' The list is reloaded; try again.' : '');
  }

  async function deleteRule(rule) {
    const note = prompt(`Delete rule ${rule.id} (${rule.kind} ${rule.pattern})? ` +
      'Write why, for the audit log, and press OK; Cancel keeps the rule.', '');
    if (note === null) return;
    let problem = null;
    try {
      const params = new URLSearchParams({ version: String(rule.version) });
      if (note.trim()) params.set('note', note.trim());
      await call('DELETE', `/v1/rules/${enc(rule.id)}?${params}`);
      status(`Deleted rule ${rule.id}.`);
    } catch (error) {
      problem = error;
    }
    await loadRules();
    if (problem) report('rules-msg', problem, problem.status === 409 ? ' The list is reloaded; try again.' : '');
  }

  function showHistory(id) {
    $('audit-target').value = id;
    $('audit-actor').value = '';
    showTab('audit');
  }

  // ---- Audit log ---------------------------------------------------------------------------

  async function loadAudit(more) {
    const params = new URLSearchParams({ limit: '50' });
    const target = $('audit-target').value.trim();
    const actor = $('audit-actor').value.trim();
    if (target) params.set('target', target);
    if (actor) params.set('actor', actor);
    if (more && auditBefore !== null) params.set('before', String(auditBefore));
    try {
      const data = await call('GET', `/v1/audit?${params}`);
      const rows = data.entries.map(auditRow);
      const body = $('audit-table').tBodies[0];
      if (more) body.append(...rows);
      else body.replaceChildren(...rows);
      if (!more && !rows.length) body.append(emptyRow(8, 'no entries'));
      auditBefore = data.next_before ?? null;
      $('audit-more').hidden = auditBefore === null;
      say('audit-msg', '');
    } catch (error) {
      report('audit-msg', error);
    }
  }

  function auditRow(entry) {
    return el(
      'tr',
      { class: 'entry' },
      el('td', { class: 'seq' }, entry.seq),
      el('td', { class: 'at' }, entry.at),
      el('td', { class: 'actor' }, entry.actor),
      el('td', { class: 'action' }, entry.action),
      el('td', { class: 'target' }, entry.target),
      el('td', { class: 'note' }, entry.note || ''),
      el('td', { class: 'old' }, json(entry.old)),
      el('td', { class: 'new' }, json(entry.new)),
    );
  }

  // ---- Review queue ------------------------------------------------------------------------

  async function loadReview(more) {
    const params = new URLSearchParams({ limit: '50' });
    if (more && reviewCursor) params.set('cursor', reviewCursor);
    const body = $('review-table').tBodies[0];
    try {
      const data = await call('GET', `/v1/review?${params}`);
      const rows = (data.items || []).map(reviewRow);
      if (more) body.append(...rows);
      else body.replaceChildren(...rows);
      if (!more && !rows.length) body.append(emptyRow(5, 'nothing to review'));
      reviewCursor = data.next_cursor || null;
      $('review-more').hidden = reviewCursor === null;
      $('review-total').textContent = `${data.total} held`;
      say('review-msg', '');
    } catch (error) {
      if (!more) body.replaceChildren();
      $('review-more').hidden = true;
      report('review-msg', error);
    }
  }

  function reviewRow(item) {
    const post = item.post;
    const note = el('input', { class: 'review-note', placeholder: 'note (optional)' });
    const reasons = (item.reasons || []).map((r) => el('span', { class: 'reason' },
      typeof r.score === 'number' ? `${r.source} (${r.score.toFixed(2)})` : String(r.source)));
    const rules = (item.rules || []).map((id) => el('span', { class: 'reason' }, `rule:${id}`));
    const row = el(
      'tr',
      { class: 'item' },
      el('td', {}, link(post.url, `@${post.channel}/${post.post_id}`)),
      el('td', {}, post.date),
      el('td', { class: 'text' }, el('pre', {}, item.text || '')),
      el('td', { class: 'reasons' }, ...reasons, ...rules),
      el('td', {}, note,
        el('button', { type: 'button', class: 'approve', onclick: () => decide('approve') }, 'Approve'),
        el('button', { type: 'button', class: 'reject', onclick: () => decide('reject') }, 'Reject')),
    );
    async function decide(decision) {
      const why = note.value.trim();
      const body = { version: item.version };
      if (why) body.note = why;
      try {
        await call('POST', `/v1/review/${enc(post.channel_id)}/${enc(post.post_id)}/${decision}`, body);
        row.remove();
        status(`Post @${post.channel}/${post.post_id} ${decision === 'approve' ? 'approved' : 'rejected'}.`);
      } catch (error) {
        report('review-msg', error);
      }
    }
    return row;
  }

  // ---- Classifiers -------------------------------------------------------------------------

  async function loadClassifiers() {
    try {
      const data = await call('GET', '/v1/classifiers');
      const body = $('classifiers-table').tBodies[0];
      body.replaceChildren(...data.classifiers.map(classifierRow));
      if (!data.classifiers.length) body.append(emptyRow(5, 'no classifiers'));
      say('classifiers-msg', '');
    } catch (error) {
      report('classifiers-msg', error);
    }
  }

  function classifierRow(c) {
    const actions = ['hide', 'review', 'drop'].map((a) => el('option', { value: a, selected: a === c.action }, a));
    return el(
      'tr',
      { class: 'classifier', dataset: { category: c.category } },
      el('td', {}, c.category),
      el('td', {}, el('input', { type: 'number', min: '0', max: '1', step: '0.01', value: String(c.threshold), class: 'c-threshold', 'aria-label': 'threshold' })),
      el('td', {}, el('select', { class: 'c-action', 'aria-label': 'action' }, ...actions)),
      el('td', {}, el('input', { class: 'c-regions', value: (c.regions || []).join(', '), 'aria-label': 'regions' })),
      el('td', {}, el('input', { type: 'checkbox', class: 'c-enabled', checked: c.enabled, 'aria-label': 'enabled' })),
    );
  }

  async function saveClassifiers(event) {
    event.preventDefault();
    const classifiers = [...document.querySelectorAll('#classifiers-table tr.classifier')].map((row) => ({
      category: row.dataset.category,
      threshold: Number(row.querySelector('.c-threshold').value),
      action: row.querySelector('.c-action').value,
      regions: row.querySelector('.c-regions').value.split(',').map((r) => r.trim()).filter(Boolean),
      enabled: row.querySelector('.c-enabled').checked,
    }));
    const note = $('classifiers-note').value.trim();
    try {
      await call('PUT', '/v1/classifiers', note ? { classifiers, note } : { classifiers });
      await loadClassifiers();
      $('classifiers-note').value = '';
      say('classifiers-msg', 'Saved.', true);
    } catch (error) {
      report('classifiers-msg', error);
    }
  }

  // ---- Wiring ------------------------------------------------------------------------------

  function start() {
    $('signin-form').addEventListener('submit', (event) => {
      event.preventDefault();
      signIn($('token').value);
    });
    $('signout').addEventListener('click', () => signOut());
    for (const tab of document.querySelectorAll('.tab')) {
      tab.addEventListener('click', () => showTab(tab.dataset.tab));
    }
    $('rule-filter').addEventListener('submit', (event) => {
      event.preventDefault();
      loadRules();
    });
    for (const id of ['filter-kind', 'filter-action', 'filter-enabled']) {
      $(id).addEventListener('change', () => loadRules());
    }
    $('rule-new').addEventListener('click', () => openForm(null));
    $('rule-form').addEventListener('submit', saveRule);
    $('f-preview').addEventListener('click', previewRule);
    $('f-cancel').addEventListener('click', () => {
      $('rule-form').hidden = true;
      editing = null;
    });
    $('f-reload').addEventListener('click', reloadRule);
    $('audit-filter').addEventListener('submit', (event) => {
      event.preventDefault();
      loadAudit(false);
    });
    $('audit-more').addEventListener('click', () => loadAudit(true));
    $('review-refresh').addEventListener('click', () => loadReview(false));
    $('review-more').addEventListener('click', () => loadReview(true));
    $('classifiers-form').addEventListener('submit', saveClassifiers);

    const saved = sessionStorage.getItem(TOKEN_KEY);
    if (saved) signIn(saved);
  }

  start();
})();

#!/usr/bin/env node
/* The approval page (www/approve/) in a real browser against the real stack.
 *
 * stack_server.py starts lighttpd + ocss-fcgi + the mock upstream on random
 * loopback ports (tests/integration/stack.py); Debian's chromium, driven by
 * playwright-core, uses the page as an operator would.  Screenshots go to
 * tests/artefacts/browser/.  Ends with "browser: N passed, N failed".
 *
 *   node approve.test.js [name-substring]
 * Environment: OCSS_BUILD (as the integration tests), CHROMIUM (default
 * /usr/bin/chromium), OCSS_BROWSER_HEADED=1 to watch.
 */
'use strict';

const { chromium } = require('playwright-core');
const { spawn } = require('node:child_process');
const assert = require('node:assert/strict');
const fs = require('node:fs');
const path = require('node:path');

const HERE = __dirname;
const SRC = path.resolve(HERE, '..', '..');
const ART = path.join(SRC, 'tests', 'artefacts', 'browser');
const CHROMIUM = process.env.CHROMIUM || '/usr/bin/chromium';
const OPERATOR = 'alice-operator';
const T = 10000;	/* default wait for the page, ms */

let stack = null;	/* {proc, port, token, base} */
let browser = null;
const pageProblems = [];	/* uncaught page errors, CSP violations */

/* ---- the stack ---- */

function startStack() {
	return new Promise((resolve, reject) => {
		const proc = spawn('python3', [path.join(HERE, 'stack_server.py')],
		    { stdio: ['pipe', 'pipe', 'inherit'], env: process.env });
		let out = '';
		const timer = setTimeout(() => {
			proc.kill('SIGTERM');
			reject(new Error('the stack did not start within 60 s'));
		}, 60000);
		proc.on('error', (e) => { clearTimeout(timer); reject(e); });
		proc.on('exit', (code) => {
			clearTimeout(timer);
			reject(new Error('stack_server.py exited (' + code + '): ' + out.trim()));
		});
		proc.stdout.setEncoding('utf8');
		proc.stdout.on('data', (d) => {
			out += d;
			const nl = out.indexOf('\n');
			if (nl < 0)
				return;
			clearTimeout(timer);
			let info;
			try { info = JSON.parse(out.slice(0, nl)); } catch (e) {
				reject(new Error('stack_server.py said: ' + out));
				return;
			}
			if (info.error) {
				reject(new Error('the stack did not start: ' + info.error));
				return;
			}
			proc.removeAllListeners('exit');
			resolve({ proc, port: info.port, token: info.token,
			    base: 'http://127.0.0.1:' + info.port });
		});
	});
}

function stopStack(s) {
	return new Promise((resolve) => {
		if (!s || s.proc.exitCode !== null) {
			resolve(s ? s.proc.exitCode : 0);
			return;
		}
		const kill = setTimeout(() => s.proc.kill('SIGTERM'), 60000);
		s.proc.on('exit', (code) => { clearTimeout(kill); resolve(code); });
		s.proc.stdin.end();	/* EOF: stop and clean up */
	});
}

/* ---- HTTP straight to the gateway ---- */

async function http(method, p, body, headers, token) {
	const h = Object.assign({}, headers || {});
	if (token !== null)
		h.Authorization = 'Bearer ' + (token || stack.token);
	if (body !== undefined) {
		h['Content-Type'] = 'application/json';
		body = JSON.stringify(body);
	}
	const r = await fetch(stack.base + p, { method, headers: h, body });
	const text = await r.text();
	let json = null;
	try { json = JSON.parse(text); } catch (e) { /* not JSON */ }
	return { status: r.status, headers: r.headers, text, json };
}

function chatBody(command) {
	return {
		model: 'm',
		messages: [
			{ role: 'user', content: 'please help' },
			{ role: 'assistant', content: null, tool_calls: [{ id: 'call_0', type: 'function',
			    function: { name: 'exec', arguments: JSON.stringify({ command }) } }] }
		]
	};
}

/* A chat completion with an exec tool call: held for approval (202). */
async function hold(session, opts) {
	opts = opts || {};
	const body = chatBody(opts.command || 'ls -la /tmp');
	const r = await http('POST', '/v1/chat/completions', body,
	    { 'X-Session-Id': session, 'X-Governance-Requester': opts.requester || 'agent-1' });
	assert.equal(r.status, 202, 'held request: ' + r.text);
	assert.ok(r.json.approval_id && r.json.plan_id, r.text);
	assert.equal(r.json.approve_url, '/approve/?approval=' + r.json.approval_id);
	return { body, session, held: r.json };
}

function resend(h, headers) {
	return http('POST', '/v1/chat/completions', h.body, Object.assign(
	    { 'X-Session-Id': h.session, 'X-Governance-Requester': 'agent-1' }, headers));
}

async function approval(id) {
	const r = await http('GET', '/governance/approvals/' + id);
	assert.equal(r.status, 200, r.text);
	return r.json;
}

/* ---- the browser ---- */

async function newPage(opts) {
	opts = opts || {};
	const ctx = await browser.newContext({
		viewport: opts.viewport || { width: 1280, height: 900 },
		deviceScaleFactor: 1,
		isMobile: !!opts.mobile,
		hasTouch: !!opts.mobile,
		colorScheme: 'light',
		reducedMotion: 'reduce'
	});
	const page = await ctx.newPage();
	page.setDefaultTimeout(T);
	page.on('pageerror', (e) => pageProblems.push('page error: ' + e.message));
	page.on('console', (m) => {
		const t = m.text();
		/* Refused API calls are expected in some tests; anything else
		 * logged as an error (CSP violations, script errors) is not. */
		if (m.type() === 'error' && !/Failed to load resource: the server responded with a status of (401|403|404|410)/.test(t))
			pageProblems.push('console: ' + t);
	});
	if (opts.clock)
		await page.clock.install();
	return { ctx, page };
}

function approveUrl(id) {
	return stack.base + (id ? '/approve/?approval=' + encodeURIComponent(id) : '/approve/');
}

/* Load the page as an operator does; a refusal by the web server is said
 * plainly instead of as a missing element later. */
async function open(page, url) {
	const r = await page.goto(url);
	if (!r || r.status() !== 200)
		throw new Error('GET ' + url + ' -> ' + (r ? r.status() : 'no answer') +
		    ' (see the first test: the web server does not serve www/approve/)');
	return r;
}

async function signIn(page, token, name) {
	await page.getByRole('heading', { name: 'Sign in' }).waitFor();
	await page.getByLabel('Gateway token').fill(token || stack.token);
	await page.getByLabel('Your name').fill(name || OPERATOR);
	await page.getByRole('button', { name: 'Continue' }).click();
}

function card(page, id) {
	return page.locator('article.card[data-id="' + id + '"]');
}

async function waitText(locator, re, what) {
	const end = Date.now() + T;
	let last = '';
	while (Date.now() < end) {
		try {
			last = await locator.textContent({ timeout: 1000 });
			if (last !== null && re.test(last))
				return last;
		} catch (e) { /* not there yet */ }
		await new Promise((r) => setTimeout(r, 100));
	}
	throw new Error((what || 'text') + ' did not match ' + re + '; last: ' + JSON.stringify(last));
}

async function gone(locator, what) {
	await locator.waitFor({ state: 'detached', timeout: T }).catch(() => {
		throw new Error(what + ' is still there');
	});
}

function activeId(page) {
	return page.evaluate(() => document.activeElement && document.activeElement.id);
}

async function noHorizontalScroll(page, width, what) {
	const w = await page.evaluate(() => ({
		scroll: document.documentElement.scrollWidth, client: document.documentElement.clientWidth,
		body: document.body.scrollWidth
	}));
	assert.ok(w.scroll <= width && w.body <= width,
	    what + ': horizontal scroll at ' + width + ' px (scrollWidth ' + w.scroll + ', body ' + w.body + ')');
}

async function shot(page, name) {
	await page.screenshot({ path: path.join(ART, name), fullPage: true });
}

/* The approve/reject dialog: opens from the card's button, returns it. */
async function openDecision(page, id, act) {
	await card(page, id).getByRole('button', { name: new RegExp('^' + act) }).click();
	const dlg = page.getByRole('dialog');
	await dlg.waitFor();
	return dlg;
}

/* ---- the tests ---- */

const tests = [];
function test(name, fn) { tests.push({ name, fn }); }

test('the web server serves the page at /approve/ with the right types', async () => {
	const types = { '/approve/': /^text\/html/, '/approve/app.js': /^(text|application)\/javascript/,
	    '/approve/style.css': /^text\/css/ };
	const problems = [];
	for (const [p, re] of Object.entries(types)) {
		const r = await http('GET', p, undefined, {}, null);
		const ct = r.headers.get('content-type') || '';
		if (r.status !== 200 || !re.test(ct))
			problems.push('GET ' + p + ' -> ' + r.status + ' ' + (ct || '(no type)'));
	}
	assert.deepEqual(problems, [], 'lighttpd (contrib/lighttpd/ocss.conf.in) needs ' +
	    'index-file.names = ("index.html") and mimetype.assign for .html/.js/.css: ' + problems.join('; '));
	const page = await http('GET', '/approve/', undefined, {}, null);
	assert.match(page.text, /<meta http-equiv="Content-Security-Policy" content="default-src 'self'/);
	assert.doesNotMatch(page.text, /<script>|style=/, 'no inline script or style');
});

test('approve: held exec call, acknowledgment, confirmation dialog, token, retry passes', async () => {
	const h = await hold('sess-browser-approve');
	const id = h.held.approval_id;
	const { ctx, page } = await newPage();
	await ctx.grantPermissions(['clipboard-read', 'clipboard-write'], { origin: stack.base });
	try {
		await open(page, approveUrl(id));
		await signIn(page);
		const c = card(page, id);
		await c.waitFor();
		/* What the operator needs to decide. */
		assert.equal(await c.locator('code.tool').first().textContent(), 'exec');
		await waitText(c.locator('.resource'), /ls -la \/tmp/, 'resource');
		await waitText(c.locator('.violations'), new RegExp(escapeRe(h.held.violations[0].reason)), 'reason');
		await waitText(c.locator('.violations'), /exec-needs-approval/, 'policy id');
		await waitText(c.locator('.action .badge.risk'), /risk/, 'risk badge');
		await waitText(c.locator('.meta'), /expires in \d+ (min|h)/, 'expiry');
		await waitText(c.locator('h3'), new RegExp(h.held.plan_id), 'plan id');
		assert.ok(await c.evaluate((e) => e.classList.contains('linked')), 'linked approval highlighted');
		assert.equal(await page.evaluate(() => document.activeElement.closest('article') &&
		    document.activeElement.closest('article').getAttribute('data-id')), id, 'focus on the linked approval');
		await waitText(page.locator('#stat-pending'), /^[1-9]\d*$/, 'pending count');
		await shot(page, 'desktop-pending.png');

		/* The dialog: focus inside, Tab stays inside, Escape closes and
		 * gives focus back to the button that opened it. */
		let dlg = await openDecision(page, id, 'Approve');
		assert.equal(await activeId(page), 'confirm-text', 'focus starts in the acknowledgment');
		for (let i = 0; i < 6; i++) {
			await page.keyboard.press(i % 2 ? 'Shift+Tab' : 'Tab');
			await page.keyboard.press('Tab');
			assert.ok(await page.evaluate(() => document.getElementById('confirm').contains(document.activeElement)),
			    'focus left the dialog');
		}
		await page.keyboard.press('Escape');
		await dlg.waitFor({ state: 'hidden' });
		assert.match(await page.evaluate(() => document.activeElement.textContent), /^Approve/,
		    'focus back on the Approve button');
		assert.equal((await approval(id)).status, 'pending', 'Escape decided nothing');

		/* An acknowledgment is required. */
		dlg = await openDecision(page, id, 'Approve');
		await dlg.getByRole('button', { name: 'Approve', exact: true }).click();
		await waitText(dlg.locator('#confirm-error'), /what you checked/, 'empty acknowledgment error');
		assert.equal((await approval(id)).status, 'pending');
		await dlg.getByLabel('Acknowledgment: what did you check?').fill('checked: lists /tmp only');
		await shot(page, 'desktop-dialog.png');
		await dlg.getByRole('button', { name: 'Approve', exact: true }).click();

		const res = page.locator('#result-list article').first();
		await waitText(res.locator('h3'), new RegExp('Approved plan ' + h.held.plan_id));
		const token = (await res.locator('code.token').textContent()).trim();
		assert.match(token, /^v1\./, 'token shown');
		assert.equal((await res.locator('code.plan-id').textContent()).trim(), h.held.plan_id);
		assert.equal((await res.locator('pre.headers').textContent()).trim(),
		    'x-governance-plan-id: ' + h.held.plan_id + '\nx-governance-token: ' + token);
		await gone(page.locator('#pending-list article[data-id="' + id + '"]'), 'the approved plan in the pending list');
		/* The linked approval now shows its status. */
		await waitText(page.locator('#linked article'), /approved/i, 'linked approval status');
		await res.getByRole('button', { name: 'Copy token' }).click();
		await waitText(res.getByRole('button', { name: /Copied|Copy token/ }), /Copied/, 'copy feedback');
		assert.equal(await page.evaluate(() => navigator.clipboard.readText()), token, 'clipboard holds the token');
		await shot(page, 'desktop-approved.png');

		/* The gateway agrees. */
		const a = await approval(id);
		assert.equal(a.status, 'approved');
		assert.equal(a.decided_by, OPERATOR);
		assert.equal(a.note, 'checked: lists /tmp only');
		const r = await resend(h, { 'X-Governance-Plan-Id': h.held.plan_id, 'X-Governance-Token': token });
		assert.equal(r.status, 200, 'retry with the headers: ' + r.text);
	} finally {
		await ctx.close();
	}
});

test('reject: reason, confirmation, plan leaves the list and stays blocked', async () => {
	const h = await hold('sess-browser-reject', { command: 'rm -rf ./build/cache' });
	const id = h.held.approval_id;
	const { ctx, page } = await newPage();
	try {
		await open(page, approveUrl());
		await signIn(page);
		const c = card(page, id);
		await c.waitFor();
		/* Keyboard only: Enter on the button, type, Tab to Reject, Enter. */
		await c.getByRole('button', { name: /^Reject/ }).focus();
		await page.keyboard.press('Enter');
		const dlg = page.getByRole('dialog');
		await dlg.waitFor();
		assert.equal(await activeId(page), 'confirm-text', 'focus starts in the reason');
		await waitText(dlg.locator('#confirm-title'), /^Reject these tool calls\?$/);
		await waitText(dlg.locator('#confirm-desc'), new RegExp('You reject plan ' + h.held.plan_id + ' as ' + OPERATOR));
		await waitText(dlg.locator('.confirm-actions'), /rm -rf \.\/build\/cache/, 'what is rejected');
		await page.keyboard.press('Tab');
		await page.keyboard.press('Tab');
		assert.equal(await activeId(page), 'confirm-ok');
		await page.keyboard.press('Enter');
		await waitText(dlg.locator('#confirm-error'), /why you reject/, 'empty reason error');
		assert.equal(await activeId(page), 'confirm-text', 'focus back in the reason');
		await page.keyboard.type('deletes the build cache of another project');
		await page.keyboard.press('Tab');
		await page.keyboard.press('Tab');
		await page.keyboard.press('Enter');
		await waitText(page.locator('#result-list article h3').first(), new RegExp('Rejected plan ' + h.held.plan_id));
		await gone(c, 'the rejected plan');
		assert.equal(await page.locator('#result-list code.token').count(), 0, 'no token for a rejection');
		const a = await approval(id);
		assert.equal(a.status, 'rejected');
		assert.equal(a.decided_by, OPERATOR);
		assert.equal(a.note, 'deletes the build cache of another project');
		const r = await resend(h, { 'X-Governance-Plan-Id': h.held.plan_id, 'X-Governance-Token': 'v1.1.x' });
		assert.equal(r.status, 403, r.text);
	} finally {
		await ctx.close();
	}
});

test('self-approval refused (403) and a plan decided elsewhere (410) are shown', async () => {
	const mine = await hold('sess-browser-self', { requester: OPERATOR });
	const other = await hold('sess-browser-410');
	const { ctx, page } = await newPage();
	try {
		await open(page, approveUrl());
		await signIn(page);
		await card(page, mine.held.approval_id).waitFor();
		let dlg = await openDecision(page, mine.held.approval_id, 'Approve');
		await waitText(dlg.locator('#confirm-self'), /requested this plan/, 'self-approval warning');
		await dlg.getByLabel('Acknowledgment: what did you check?').fill('mine');
		await dlg.getByRole('button', { name: 'Approve', exact: true }).click();
		await waitText(dlg.locator('#confirm-error'), /self-approval/, 'self-approval error');
		assert.equal((await approval(mine.held.approval_id)).status, 'pending');
		await page.keyboard.press('Escape');
		await dlg.waitFor({ state: 'hidden' });

		await card(page, other.held.approval_id).waitFor();
		const r = await http('POST', '/governance/approvals/' + other.held.approval_id + '/reject',
		    { rejector_id: 'bob', reason: 'decided elsewhere' });
		assert.equal(r.status, 200, r.text);
		dlg = await openDecision(page, other.held.approval_id, 'Approve');
		await dlg.getByLabel('Acknowledgment: what did you check?').fill('too late');
		await dlg.getByRole('button', { name: 'Approve', exact: true }).click();
		await waitText(page.locator('#error'), /Already decided/, '410 message');
		await gone(card(page, other.held.approval_id), 'the plan decided elsewhere');
		assert.equal((await approval(other.held.approval_id)).status, 'rejected');
	} finally {
		await ctx.close();
	}
});

test('wrong token: "token rejected" shown, asked again; forget token works', async () => {
	const { ctx, page } = await newPage();
	try {
		await open(page, approveUrl());
		await signIn(page, 'not-the-token-0123456789');
		await waitText(page.getByRole('alert').filter({ hasText: 'Token rejected' }), /Token rejected/, 'error banner');
		await page.getByRole('heading', { name: 'Sign in' }).waitFor();
		assert.equal(await page.evaluate(() => sessionStorage.getItem('ocss.approve.token')), null,
		    'the rejected token is not kept');
		assert.ok(await page.locator('#app').isHidden(), 'no data shown without a valid token');
		await shot(page, 'desktop-wrong-token.png');

		/* Now the right one; then forget it. */
		await page.getByLabel('Gateway token').fill(stack.token);
		await page.getByRole('button', { name: 'Continue' }).click();
		await page.getByRole('heading', { name: /Pending approvals/ }).waitFor();
		assert.ok(await page.locator('#error').isHidden(), 'error cleared after a good token');
		await page.reload();	/* kept for the tab */
		await page.getByRole('heading', { name: /Pending approvals/ }).waitFor();
		await page.getByRole('button', { name: 'Forget token' }).click();
		await page.getByRole('heading', { name: 'Sign in' }).waitFor();
		assert.equal(await page.evaluate(() => sessionStorage.getItem('ocss.approve.token')), null);
		assert.equal(await page.evaluate(() => sessionStorage.getItem('ocss.approve.operator')), OPERATOR);
	} finally {
		await ctx.close();
	}
});

test('untrusted text stays text; labels for every control; AA contrast (light, dark)', async () => {
	const evil = '<img src=x onerror="window.__pwned=1"><script>window.__pwned=2</script>';
	const h = await hold('sess-browser-xss', { command: 'echo ' + evil });
	const { ctx, page } = await newPage();
	try {
		await open(page, approveUrl(h.held.approval_id));
		await signIn(page);
		const c = card(page, h.held.approval_id);
		await c.waitFor();
		await waitText(c.locator('.resource code'), /<img src=x onerror=/, 'literal resource');
		assert.equal(await page.locator('#main img, #main script').count(), 0, 'markup from the agent was parsed');
		assert.equal(await page.evaluate(() => window.__pwned), undefined);
		for (const scheme of ['light', 'dark']) {
			await page.emulateMedia({ colorScheme: scheme });
			assert.deepEqual(await page.evaluate(contrastProblems), [], 'low contrast, ' + scheme);
		}
		await openDecision(page, h.held.approval_id, 'Approve');
		const unlabelled = await page.evaluate(() => {
			const bad = [];
			for (const e of document.querySelectorAll('input, textarea, select, button')) {
				if (e.closest('[hidden]') || e.getClientRects().length === 0)
					continue;
				const named = e.labels && e.labels.length ? e.labels[0].textContent.trim() :
				    (e.getAttribute('aria-label') || e.textContent || '').trim();
				if (!named)
					bad.push(e.outerHTML.slice(0, 80));
			}
			return bad;
		});
		assert.deepEqual(unlabelled, [], 'controls without a name');
		for (const scheme of ['dark', 'light']) {
			await page.emulateMedia({ colorScheme: scheme });
			assert.deepEqual(await page.evaluate(contrastProblems), [], 'low contrast in the dialog, ' + scheme);
		}
		await page.keyboard.press('Escape');
	} finally {
		await ctx.close();
	}
});

test('refreshes by itself every 10 s and on the Refresh button', async () => {
	const { ctx, page } = await newPage({ clock: true });
	try {
		await open(page, approveUrl());
		await signIn(page);
		await page.getByRole('heading', { name: /Pending approvals/ }).waitFor();
		const before = Number(await page.locator('#stat-pending').textContent());
		const h = await hold('sess-browser-refresh');
		await page.clock.runFor(10500);
		await card(page, h.held.approval_id).waitFor();
		await waitText(page.locator('#stat-pending'), new RegExp('^' + (before + 1) + '$'), 'pending count');
		/* Decided elsewhere: the manual refresh drops it. */
		await http('POST', '/governance/approvals/' + h.held.approval_id + '/reject',
		    { rejector_id: 'bob', reason: 'no' });
		await page.getByRole('button', { name: 'Refresh' }).click();
		await gone(card(page, h.held.approval_id), 'the plan decided elsewhere');
	} finally {
		await ctx.close();
	}
});

test('phone width (375 px): one column, no horizontal scroll', async () => {
	const long = 'python3 -c "' + 'import os;'.repeat(12) + '" /very/long/path/' + 'x'.repeat(120);
	const h = await hold('sess-browser-phone', { command: long });
	const { ctx, page } = await newPage({ viewport: { width: 375, height: 812 }, mobile: true });
	try {
		await open(page, approveUrl(h.held.approval_id));
		await noHorizontalScroll(page, 375, 'sign-in');
		await shot(page, 'phone-signin.png');
		await signIn(page);
		await card(page, h.held.approval_id).waitFor();
		await noHorizontalScroll(page, 375, 'pending list');
		await shot(page, 'phone-pending.png');
		const dlg = await openDecision(page, h.held.approval_id, 'Approve');
		await dlg.getByLabel('Acknowledgment: what did you check?').fill('ok on a phone');
		await noHorizontalScroll(page, 375, 'dialog');
		const box = await dlg.boundingBox();
		assert.ok(box.x >= 0 && box.x + box.width <= 375, 'dialog fits: ' + JSON.stringify(box));
		await page.screenshot({ path: path.join(ART, 'phone-dialog.png') });
		await dlg.getByRole('button', { name: 'Approve', exact: true }).click();
		await page.locator('#result-list code.token').waitFor();
		await noHorizontalScroll(page, 375, 'result');
		await shot(page, 'phone-approved.png');
	} finally {
		await ctx.close();
	}
});

/* Runs in the page: visible text whose contrast with its (blended)
 * background is below WCAG AA: 4.5:1, or 3:1 for large text. */
function contrastProblems() {
	const parse = (c) => {
		const m = c.match(/rgba?\(([^)]+)\)/);
		if (!m)
			return null;
		const p = m[1].split(/[\s,\/]+/).filter(Boolean).map(Number);
		return { r: p[0], g: p[1], b: p[2], a: p.length > 3 ? p[3] : 1 };
	};
	const over = (top, bottom) => ({
		r: top.r * top.a + bottom.r * (1 - top.a), g: top.g * top.a + bottom.g * (1 - top.a),
		b: top.b * top.a + bottom.b * (1 - top.a), a: 1 });
	const bg = (e) => {
		const layers = [];
		for (let n = e; n && n.nodeType === 1; n = n.parentElement) {
			const c = parse(getComputedStyle(n).backgroundColor);
			if (c && c.a > 0)
				layers.push(c);
			if (c && c.a === 1)
				break;
		}
		let acc = { r: 255, g: 255, b: 255, a: 1 };
		for (let i = layers.length - 1; i >= 0; i--)
			acc = over(layers[i], acc);
		return acc;
	};
	const lum = (c) => {
		const f = (v) => { v /= 255; return v <= 0.03928 ? v / 12.92 : Math.pow((v + 0.055) / 1.055, 2.4); };
		return 0.2126 * f(c.r) + 0.7152 * f(c.g) + 0.0722 * f(c.b);
	};
	const bad = [];
	const walker = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
	const seen = new Set();
	for (let t = walker.nextNode(); t; t = walker.nextNode()) {
		const e = t.parentElement;
		if (!t.textContent.trim() || seen.has(e) || e.closest('[hidden], .sr-only, .offscreen, noscript') ||
		    e.getClientRects().length === 0 || e.closest(':disabled') ||
		    (document.querySelector('dialog[open]') && !e.closest('dialog')))
			continue;
		seen.add(e);
		const cs = getComputedStyle(e);
		const b = bg(e), f = over(parse(cs.color), b);
		const l1 = lum(f), l2 = lum(b);
		const ratio = (Math.max(l1, l2) + 0.05) / (Math.min(l1, l2) + 0.05);
		const size = parseFloat(cs.fontSize), bold = Number(cs.fontWeight) >= 700;
		const need = size >= 24 || (bold && size >= 18.66) ? 3 : 4.5;
		if (ratio < need)
			bad.push(t.textContent.trim().slice(0, 30) + ': ' + ratio.toFixed(2) + ' < ' + need);
	}
	return bad;
}

function escapeRe(s) { return s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&'); }

/* ---- main ---- */

async function main() {
	const only = process.argv[2];
	let passed = 0, failed = 0;
	fs.mkdirSync(ART, { recursive: true });
	const run = only ? tests.filter((t) => t.name.includes(only)) : tests;
	const started = Date.now();
	try {
		if (!fs.existsSync(CHROMIUM))
			throw new Error(CHROMIUM + ' is missing (apt-get install chromium)');
		stack = await startStack();
		browser = await chromium.launch({
			executablePath: CHROMIUM,
			headless: process.env.OCSS_BROWSER_HEADED !== '1',
			args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
			    '--disable-background-networking', '--disable-component-update', '--disable-sync']
			    .filter((a) => a !== '--headless' || process.env.OCSS_BROWSER_HEADED !== '1')
		});
		for (const t of run) {
			const t0 = Date.now();
			pageProblems.length = 0;
			try {
				await t.fn();
				assert.deepEqual(pageProblems, [], 'errors in the page');
				passed++;
				console.log('ok   ' + t.name + ' (' + (Date.now() - t0) + ' ms)');
			} catch (e) {
				failed++;
				console.log('FAIL ' + t.name + '\n     ' + String(e && e.stack || e).split('\n').slice(0, 6).join('\n     '));
			}
		}
	} catch (e) {
		console.log('FAIL setting up: ' + (e && e.message || e));
		failed += Math.max(1, run.length - passed - failed);
	} finally {
		if (browser)
			await browser.close().catch(() => {});
		const code = await stopStack(stack);
		if (code) {
			console.log('FAIL the stack did not stop cleanly (exit ' + code + ')');
			failed++;
		}
	}
	console.log('screenshots: ' + ART + ' (' + ((Date.now() - started) / 1000).toFixed(1) + ' s)');
	console.log('browser: ' + passed + ' passed, ' + failed + ' failed');
	process.exitCode = failed ? 1 : 0;
}

main();

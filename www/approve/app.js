/* ocss approval page.
 *
 * Talks to the gateway's governance REST API (same origin, Bearer token).
 * Everything shown from the API (tool names, resources, reasons, names)
 * comes from an agent or an operator and is untrusted: the DOM is built
 * with createElement/textContent only, never innerHTML.
 */
'use strict';

(function () {
	var API = '/governance';
	var REFRESH_MS = 10000;
	var TIMEOUT_MS = 15000;
	var LIST_LIMIT = 200;
	var KEY_TOKEN = 'ocss.approve.token';
	var KEY_NAME = 'ocss.approve.operator';
	var ID_RE = /^[A-Za-z0-9_-]{1,64}$/;
	var RISKS = ['none', 'low', 'medium', 'high', 'critical'];

	var state = {
		token: null,
		operator: null,
		linkedId: null,
		linkedShown: false,
		cards: new Map(),	/* approval_id -> card element */
		timer: null,
		loading: false,
		skew: 0,		/* server clock - local clock, ms */
		dialog: null,		/* {kind, approval, opener, busy} */
		results: 0
	};

	function $(id) { return document.getElementById(id); }

	/* el('p', {class: 'x', text: 'y', attrs: {...}}, child, 'text', ...) */
	function el(tag, opts) {
		var e = document.createElement(tag), k, i, c;
		opts = opts || {};
		if (opts.class)
			e.className = opts.class;
		if (opts.text !== undefined && opts.text !== null)
			e.textContent = String(opts.text);
		if (opts.attrs)
			for (k in opts.attrs)
				if (Object.prototype.hasOwnProperty.call(opts.attrs, k) &&
				    opts.attrs[k] !== undefined && opts.attrs[k] !== null)
					e.setAttribute(k, String(opts.attrs[k]));
		for (i = 2; i < arguments.length; i++) {
			c = arguments[i];
			if (c === null || c === undefined || c === false)
				continue;
			e.appendChild(typeof c === 'string' ? document.createTextNode(c) : c);
		}
		return e;
	}

	function str(v) { return typeof v === 'string' ? v : (v === undefined || v === null ? '' : String(v)); }

	/* ---- storage (may be unavailable: private modes, policies) ---- */

	function load(k) {
		try { return window.sessionStorage.getItem(k); } catch (e) { return null; }
	}
	function save(k, v) {
		try {
			if (v === null)
				window.sessionStorage.removeItem(k);
			else
				window.sessionStorage.setItem(k, v);
		} catch (e) { /* kept in memory only */ }
	}

	/* ---- time ---- */

	function now() { return Date.now() + state.skew; }

	function span(ms) {
		var s = Math.round(ms / 1000), m, h;
		if (s < 60)
			return s + ' s';
		m = Math.round(s / 60);
		if (m < 60)
			return m + ' min';
		h = Math.floor(m / 60);
		if (h < 48)
			return h + ' h' + (m % 60 ? ' ' + (m % 60) + ' min' : '');
		return Math.round(h / 24) + ' days';
	}

	/* "expires in 54 min" / "expired 3 min ago" and the like. */
	function relText(kind, ts) {
		var d = ts - now();
		var pre = kind === 'at' ? '' : kind + ' ';
		if (Math.abs(d) < 5000)
			return kind === 'expires' ? 'expires now' : pre + 'just now';
		if (kind === 'expires')
			return d > 0 ? 'expires in ' + span(d) : 'expired ' + span(-d) + ' ago';
		return d < 0 ? pre + span(-d) + ' ago' : pre + 'in ' + span(d);
	}

	function timeEl(kind, ts) {
		var t = el('time', {
			class: kind === 'expires' && ts - now() < 5 * 60000 ? 'soon' : null,
			attrs: { datetime: new Date(ts).toISOString(), title: new Date(ts).toLocaleString(),
			    'data-kind': kind, 'data-ts': ts }
		});
		t.textContent = relText(kind, ts);
		return t;
	}

	function retime(root) {
		var list = (root || document).querySelectorAll('time[data-kind]'), i, t, ts;
		for (i = 0; i < list.length; i++) {
			t = list[i];
			ts = Number(t.getAttribute('data-ts'));
			t.textContent = relText(t.getAttribute('data-kind'), ts);
			if (t.getAttribute('data-kind') === 'expires')
				t.classList.toggle('soon', ts - now() < 5 * 60000);
		}
	}

	/* ---- messages ---- */

	function announce(msg) {
		var s = $('status');
		s.textContent = '';
		/* A fresh text node so that the same message is read again. */
		window.setTimeout(function () { s.textContent = msg; }, 50);
	}

	/* kind 'load': cleared by the next successful refresh; others stay
	 * until the operator's next sign-in or decision. */
	function showError(msg, kind) {
		var e = $('error');
		e.textContent = msg;
		e.hidden = false;
		e.setAttribute('data-kind', kind || 'other');
	}

	function clearError(kind) {
		var e = $('error');
		if (kind && e.getAttribute('data-kind') !== kind)
			return;
		e.hidden = true;
		e.textContent = '';
	}

	/* ---- API ---- */

	function ApiError(status, code, message) {
		this.status = status;
		this.code = code;
		this.message = message;
	}

	function isTokenRejected(e) {
		return e instanceof ApiError && (e.status === 401 ||
		    (e.status === 403 && (e.code === 'forbidden' || e.code === 'unauthorized')));
	}

	function api(method, path, body) {
		var headers = { 'Authorization': 'Bearer ' + state.token, 'Accept': 'application/json' };
		var ctl = typeof AbortController === 'function' ? new AbortController() : null;
		var init = { method: method, headers: headers, cache: 'no-store', credentials: 'omit',
		    redirect: 'error', referrerPolicy: 'no-referrer' };
		var timer;
		if (body !== undefined) {
			headers['Content-Type'] = 'application/json';
			init.body = JSON.stringify(body);
		}
		if (ctl) {
			init.signal = ctl.signal;
			timer = window.setTimeout(function () { ctl.abort(); }, TIMEOUT_MS);
		}
		return window.fetch(path, init).then(function (res) {
			var d = Date.parse(res.headers.get('Date') || '');
			if (!isNaN(d))
				state.skew = Math.abs(d - Date.now()) > 2000 ? d - Date.now() : 0;
			return res.text().then(function (text) {
				var data = null, err;
				try { data = JSON.parse(text); } catch (e) { data = null; }
				if (!res.ok) {
					err = data && data.error ? data.error : {};
					throw new ApiError(res.status, str(err.code) || 'http_' + res.status,
					    str(err.message) || res.statusText || 'HTTP ' + res.status);
				}
				if (!data || typeof data !== 'object')
					throw new ApiError(res.status, 'bad_answer',
					    'the gateway answered with something that is not JSON');
				return data;
			});
		}, function (e) {
			throw new ApiError(0, 'network', e && e.name === 'AbortError' ?
			    'no answer within ' + TIMEOUT_MS / 1000 + ' s' : 'the request did not get through');
		}).then(function (v) {
			if (timer)
				window.clearTimeout(timer);
			return v;
		}, function (e) {
			if (timer)
				window.clearTimeout(timer);
			throw e;
		});
	}

	function describe(e) {
		if (!(e instanceof ApiError))
			return 'Unexpected error: ' + str(e && e.message ? e.message : e);
		if (e.status === 0)
			return 'Network error: cannot reach the gateway (' + e.message + ').';
		return 'The gateway answered ' + e.status + ' ' + e.code + ': ' + e.message;
	}

	/* ---- sign-in ---- */

	function showLogin(msg, nameOnly) {
		stopTimer();
		$('app').hidden = true;
		$('session').hidden = true;
		$('login').hidden = false;
		$('token-field').hidden = !!nameOnly;
		$('token').value = '';
		$('operator').value = state.operator || '';
		$('login-title').textContent = nameOnly ? 'Change your name' : 'Sign in';
		$('login-cancel').hidden = !nameOnly || !state.operator;
		$('login-error').hidden = true;
		if (msg)
			showError(msg);
		window.setTimeout(function () {
			(nameOnly || state.token && !msg ? $('operator') : $('token')).focus();
		}, 0);
	}

	function showApp() {
		$('login').hidden = true;
		$('app').hidden = false;
		$('session').hidden = false;
		$('operator-shown').textContent = state.operator;
		startTimer();
	}

	function onLogin(ev) {
		ev.preventDefault();
		var tokenShown = !$('token-field').hidden;
		var token = $('token').value.trim(), name = $('operator').value.trim(), le = $('login-error');
		var problems = [];
		$('token').removeAttribute('aria-invalid');
		$('operator').removeAttribute('aria-invalid');
		if (tokenShown && !token) {
			problems.push('Enter the gateway token.');
			$('token').setAttribute('aria-invalid', 'true');
		}
		if (!name) {
			problems.push('Enter your name: it is recorded with every decision.');
			$('operator').setAttribute('aria-invalid', 'true');
		}
		if (problems.length) {
			le.textContent = problems.join(' ');
			le.hidden = false;
			(tokenShown && !token ? $('token') : $('operator')).focus();
			return;
		}
		le.hidden = true;
		clearError();
		if (tokenShown) {
			state.token = token;
			save(KEY_TOKEN, token);
		}
		if (state.operator !== name.slice(0, 128))
			clearCards();	/* rebuilt for the new name */
		state.operator = name.slice(0, 128);
		save(KEY_NAME, state.operator);
		$('token').value = '';
		showApp();
		refresh(false).then(function (ok) {
			if (ok) {
				announce('Signed in as ' + state.operator + '.');
				if (!focusLinked())
					$('pending-title').focus();
			}
		});
	}

	function tokenRejected(e) {
		state.token = null;
		save(KEY_TOKEN, null);
		clearResults();
		showLogin('Token rejected: the gateway answered ' + e.status + ' (' + e.code +
		    '). Enter the gateway token again.', false);
	}

	function forget() {
		state.token = null;
		save(KEY_TOKEN, null);
		clearResults();
		clearCards();
		clearError();
		showLogin('', false);
		announce('Token forgotten.');
	}

	/* ---- refresh ---- */

	function startTimer() {
		stopTimer();
		state.timer = window.setInterval(function () {
			if (!document.hidden)
				refresh(false);
		}, REFRESH_MS);
	}

	function stopTimer() {
		if (state.timer)
			window.clearInterval(state.timer);
		state.timer = null;
	}

	/* Resolves to true when the lists were loaded. */
	function refresh(manual) {
		if (!state.token || state.loading)
			return Promise.resolve(false);
		state.loading = true;
		$('refresh').setAttribute('aria-busy', 'true');
		var linked = state.linkedId ? api('GET', API + '/approvals/' +
		    encodeURIComponent(state.linkedId)).catch(function (e) {
			if (e instanceof ApiError && e.status === 404)
				return { missing: true };
			throw e;
		}) : Promise.resolve(null);
		return Promise.all([
			api('GET', API + '/approvals?status=pending&offset=0&limit=' + LIST_LIMIT),
			api('GET', API + '/stats'),
			linked
		]).then(function (r) {
			renderStats(r[1]);
			renderPending(r[0], r[1]);
			renderLinked(r[2]);
			retime(document);
			clearError('load');
			$('updated').textContent = 'Updated ' + new Date().toLocaleTimeString() +
			    ' · refreshes every ' + REFRESH_MS / 1000 + ' s';
			if (manual)
				announce('Refreshed: ' + state.cards.size + ' pending.');
			return true;
		}, function (e) {
			if (isTokenRejected(e))
				tokenRejected(e);
			else
				showError('Could not load the approvals. ' + describe(e) +
				    ' The page retries every ' + REFRESH_MS / 1000 + ' s.', 'load');
			return false;
		}).then(function (ok) {
			state.loading = false;
			$('refresh').removeAttribute('aria-busy');
			return ok;
		});
	}

	function renderStats(s) {
		var a = s && s.approvals || {};
		$('stat-pending').textContent = str(a.pending === undefined ? '–' : a.pending);
		$('stat-approved').textContent = str(a.approved === undefined ? '–' : a.approved);
		$('stat-rejected').textContent = str(a.rejected === undefined ? '–' : a.rejected);
		$('stat-expired').textContent = str(a.expired === undefined ? '–' : a.expired);
	}

	/* Cards are kept by approval id: a refresh adds new ones, drops the
	 * ones no longer pending and leaves the rest (and the focus) alone. */
	function renderPending(list, stats) {
		var items = Array.isArray(list && list.approvals) ? list.approvals : [];
		var box = $('pending-list'), seen = new Set(), i, a, id, card, total;
		for (i = 0; i < items.length; i++) {
			a = items[i];
			id = str(a && a.approval_id);
			if (!id || a.status !== 'pending')
				continue;
			seen.add(id);
			if (!state.cards.has(id)) {
				card = buildCard(a, true);
				state.cards.set(id, card);
			}
			/* Keep the server's order. */
			box.appendChild(state.cards.get(id));
		}
		state.cards.forEach(function (c, k) {
			if (!seen.has(k))
				removeCard(k);
		});
		retime(box);
		$('pending-title').textContent = 'Pending approvals (' + state.cards.size + ')';
		$('pending-empty').hidden = state.cards.size !== 0;
		total = stats && stats.approvals ? Number(stats.approvals.pending) : NaN;
		$('pending-more').hidden = !(total > state.cards.size);
		$('pending-more').textContent = total > state.cards.size ? 'Showing ' +
		    state.cards.size + ' of ' + total + ' pending approvals.' : '';
	}

	function removeCard(id) {
		var c = state.cards.get(id), hadFocus;
		if (!c)
			return;
		hadFocus = c.contains(document.activeElement);
		c.remove();
		state.cards.delete(id);
		if (hadFocus)
			$('pending-title').focus();
	}

	function clearCards() {
		state.cards.forEach(function (c) { c.remove(); });
		state.cards.clear();
		$('linked').hidden = true;
		$('linked-body').textContent = '';
	}

	function renderLinked(a) {
		var sec = $('linked'), body = $('linked-body'), card;
		if (!state.linkedId || !a)
			return;
		if (a.missing) {
			sec.hidden = false;
			body.textContent = '';
			body.appendChild(el('p', { class: 'banner warn',
			    text: 'The linked approval ' + state.linkedId + ' does not exist (it may have ' +
			    'been cleaned up after it expired).' }));
			return;
		}
		if (a.status === 'pending' && state.cards.has(state.linkedId)) {
			/* Shown in the pending list; highlight it there. */
			sec.hidden = true;
			body.textContent = '';
			return;
		}
		/* Not pending (or beyond the listed page): show it on its own,
		 * rebuilt only when its status changed. */
		card = body.firstElementChild;
		if (!card || card.getAttribute('data-status') !== str(a.status)) {
			body.textContent = '';
			card = buildCard(a, a.status === 'pending');
			body.appendChild(card);
		}
		retime(body);
		sec.hidden = false;
	}

	function focusLinked() {
		var card, h;
		if (!state.linkedId || state.linkedShown)
			return false;
		card = state.cards.get(state.linkedId) || $('linked-body').firstElementChild;
		if (!card)
			return false;
		state.linkedShown = true;
		h = card.querySelector('h3');
		card.scrollIntoView({ block: 'start' });
		if (h)
			h.focus({ preventScroll: true });
		return true;
	}

	/* ---- cards ---- */

	function riskRank(r) {
		var i = RISKS.indexOf(str(r));
		return i < 0 ? 0 : i;
	}

	function riskBadge(r, suffix) {
		var n = RISKS[riskRank(r)];
		return el('span', { class: 'badge risk risk-' + n, text: n + ' risk' + (suffix || '') });
	}

	function statusBadge(s) {
		var n = str(s) || 'unknown';
		return el('span', { class: 'badge status status-' +
		    (['pending', 'approved', 'rejected', 'expired'].indexOf(n) >= 0 ? n : 'unknown'), text: n });
	}

	function requesterOf(a) {
		return str(a.requester_id || (a.plan && a.plan.requester));
	}

	function actionsOf(a) {
		return a.plan && Array.isArray(a.plan.actions) ? a.plan.actions : [];
	}

	function buildCard(a, decidable) {
		var id = str(a.approval_id), hid = 'appr-' + id, actions = actionsOf(a);
		var violations = Array.isArray(a.violations) ? a.violations : [];
		var max = 0, i, card, head, meta, ul, v, act, buttons, req = requesterOf(a);

		for (i = 0; i < actions.length; i++)
			max = Math.max(max, riskRank(actions[i] && actions[i].risk));

		card = el('article', { class: 'card' + (state.linkedId === id ? ' linked' : ''),
		    attrs: { 'aria-labelledby': hid, 'data-id': id, 'data-status': str(a.status) } });
		head = el('div', { class: 'card-head' },
		    el('h3', { attrs: { id: hid, tabindex: '-1' } }, 'Plan ',
			el('code', { class: 'id', text: str(a.plan_id) })),
		    el('div', { class: 'badges' },
			a.status !== 'pending' ? statusBadge(a.status) : null,
			actions.length ? riskBadge(RISKS[max], actions.length > 1 ? ' (highest)' : '') : null),
		    state.linkedId === id ? el('p', { class: 'linked-note',
			text: 'The approval linked from the agent\'s answer' }) : null);
		card.appendChild(head);

		meta = el('p', { class: 'meta' });
		if (req)
			meta.appendChild(el('span', null, 'requested by ', el('strong', { text: req })));
		if (a.plan && a.plan.session)
			meta.appendChild(el('span', null, 'session ', el('code', { text: str(a.plan.session) })));
		if (a.created_at)
			meta.appendChild(el('span', null, timeEl('created', Number(a.created_at))));
		if (a.status === 'pending' && a.expires_at)
			meta.appendChild(el('span', null, timeEl('expires', Number(a.expires_at))));
		meta.appendChild(el('span', null, 'approval ', el('code', { text: id })));
		card.appendChild(meta);

		if (a.status !== 'pending' && a.decided_by) {
			card.appendChild(el('p', { class: 'decision decision-' + str(a.status) },
			    statusWord(a.status) + ' by ', el('strong', { text: str(a.decided_by) }), ' ',
			    a.decided_at ? timeEl('at', Number(a.decided_at)) : '',
			    a.note ? el('span', { class: 'note' }, ' — “', el('span', { text: str(a.note) }), '”') : null));
		} else if (a.status === 'expired') {
			card.appendChild(el('p', { class: 'decision decision-expired' },
			    'Nobody decided in time; the request stays blocked. ',
			    a.expires_at ? timeEl('expires', Number(a.expires_at)) : ''));
		}

		card.appendChild(el('h4', { text: actions.length === 1 ? 'Tool call' : 'Tool calls (' + actions.length + ')' }));
		if (!a.plan)
			card.appendChild(el('p', { class: 'muted', text: 'The plan details are no longer stored.' }));
		ul = el('ul', { class: 'actions' });
		for (i = 0; i < actions.length; i++) {
			act = actions[i] || {};
			ul.appendChild(el('li', { class: 'action' },
			    el('div', { class: 'action-head' },
				el('code', { class: 'tool', text: str(act.tool) }),
				riskBadge(act.risk),
				el('span', { class: 'category', text: str(act.category).replace(/_/g, ' ') }),
				act.called === false ? el('span', { class: 'badge offered', text: 'offered, not called' }) : null),
			    act.resource !== undefined ? el('div', { class: 'resource' },
				el('span', { class: 'kind', text: (str(act.resource_kind) || 'resource') + ':' }), ' ',
				el('code', { text: str(act.resource) })) : null));
		}
		card.appendChild(ul);

		if (violations.length) {
			card.appendChild(el('h4', { text: 'Why it was held' }));
			ul = el('ul', { class: 'violations' });
			for (i = 0; i < violations.length; i++) {
				v = violations[i] || {};
				ul.appendChild(el('li', null,
				    el('span', { class: 'reason', text: str(v.reason) || '(no reason given)' }),
				    el('span', { class: 'policy' }, 'policy ', el('code', { text: str(v.policy_id) }),
					v.effect ? ' · ' + str(v.effect).replace(/_/g, ' ') : '',
					v.tool ? ' · tool ' : '', v.tool ? el('code', { text: str(v.tool) }) : null)));
			}
			card.appendChild(ul);
		}

		if (decidable) {
			buttons = el('div', { class: 'buttons' });
			buttons.appendChild(el('button', { class: 'approve', attrs: { type: 'button', 'data-act': 'approve' } },
			    'Approve', el('span', { class: 'sr-only', text: ' plan ' + str(a.plan_id) }), '…'));
			buttons.appendChild(el('button', { class: 'reject', attrs: { type: 'button', 'data-act': 'reject' } },
			    'Reject', el('span', { class: 'sr-only', text: ' plan ' + str(a.plan_id) }), '…'));
			buttons.addEventListener('click', function (ev) {
				var b = ev.target.closest('button[data-act]');
				if (b)
					openDialog(b.getAttribute('data-act'), a, b);
			});
			card.appendChild(buttons);
			if (req && state.operator && req === state.operator)
				card.appendChild(el('p', { class: 'help', text: 'You requested this plan: ' +
				    'another operator has to approve it.' }));
		}
		return card;
	}

	function statusWord(s) {
		return s === 'approved' ? 'Approved' : s === 'rejected' ? 'Rejected' : str(s);
	}

	/* ---- the confirmation dialog ---- */

	function openDialog(kind, a, opener) {
		var dlg = $('confirm'), approve = kind === 'approve', actions = actionsOf(a), ul, i, act;
		var req = requesterOf(a);
		if (state.dialog)
			return;
		state.dialog = { kind: kind, approval: a, opener: opener, busy: false };
		$('confirm-title').textContent = approve ? 'Approve these tool calls?' : 'Reject these tool calls?';
		$('confirm-desc').textContent = (approve ?
		    'You approve plan ' + str(a.plan_id) + ' as ' + state.operator + '. The agent may then ' +
		    're-send its request once, unchanged, with the token you get next, and these tool calls run:' :
		    'You reject plan ' + str(a.plan_id) + ' as ' + state.operator + '. The request stays ' +
		    'blocked and these tool calls do not run:');
		ul = $('confirm-actions');
		ul.textContent = '';
		for (i = 0; i < actions.length; i++) {
			act = actions[i] || {};
			ul.appendChild(el('li', null, el('code', { class: 'tool', text: str(act.tool) }), ' ',
			    riskBadge(act.risk),
			    act.resource !== undefined ? el('code', { class: 'res', text: str(act.resource) }) : null));
		}
		$('confirm-self').hidden = !(approve && req && req === state.operator);
		$('confirm-self').textContent = approve && req === state.operator ? 'You (' + req +
		    ') requested this plan; the gateway refuses self-approval.' : '';
		$('confirm-label').textContent = approve ? 'Acknowledgment: what did you check?' : 'Reason for rejecting';
		$('confirm-help').textContent = 'Required. Recorded with your name in the audit log.';
		$('confirm-text').value = '';
		$('confirm-text').removeAttribute('aria-invalid');
		$('confirm-error').hidden = true;
		$('confirm-error').textContent = '';
		$('confirm-ok').textContent = approve ? 'Approve' : 'Reject';
		$('confirm-ok').className = approve ? 'primary' : 'danger';
		$('confirm-ok').disabled = false;
		$('confirm-cancel').disabled = false;
		dlg.setAttribute('data-kind', kind);
		if (typeof dlg.showModal === 'function')
			dlg.showModal();
		else
			dlg.setAttribute('open', '');
		$('confirm-text').focus();
	}

	function closeDialog(restore) {
		var dlg = $('confirm'), d = state.dialog;
		if (!d)
			return;
		state.dialog = null;
		if (typeof dlg.close === 'function' && dlg.open)
			dlg.close();
		else
			dlg.removeAttribute('open');
		if (restore && d.opener && document.body.contains(d.opener))
			d.opener.focus();
	}

	function dialogError(msg) {
		var e = $('confirm-error');
		e.textContent = msg;
		e.hidden = false;
	}

	function focusables(root) {
		var all = root.querySelectorAll('button, textarea, input, select, a[href], [tabindex]');
		return Array.prototype.filter.call(all, function (n) {
			return !n.disabled && n.getAttribute('tabindex') !== '-1' && n.getClientRects().length > 0;
		});
	}

	function onDialogKey(ev) {
		var f, first, last;
		if (ev.key === 'Escape') {
			ev.preventDefault();
			if (state.dialog && !state.dialog.busy)
				closeDialog(true);
			return;
		}
		if (ev.key !== 'Tab')
			return;
		f = focusables($('confirm'));
		if (!f.length)
			return;
		first = f[0];
		last = f[f.length - 1];
		if (ev.shiftKey && (document.activeElement === first || !$('confirm').contains(document.activeElement))) {
			ev.preventDefault();
			last.focus();
		} else if (!ev.shiftKey && (document.activeElement === last || !$('confirm').contains(document.activeElement))) {
			ev.preventDefault();
			first.focus();
		}
	}

	function onDialogSubmit(ev) {
		var d = state.dialog, text = $('confirm-text').value.trim(), approve, id, body, ok = $('confirm-ok');
		ev.preventDefault();
		if (!d || d.busy)
			return;
		approve = d.kind === 'approve';
		if (!text) {
			$('confirm-text').setAttribute('aria-invalid', 'true');
			dialogError(approve ? 'Write what you checked before approving.' :
			    'Write why you reject it.');
			$('confirm-text').focus();
			return;
		}
		id = str(d.approval.approval_id);
		body = approve ? { approver_id: state.operator, acknowledgment: text } :
		    { rejector_id: state.operator, reason: text };
		d.busy = true;
		ok.disabled = true;
		$('confirm-cancel').disabled = true;
		ok.textContent = approve ? 'Approving…' : 'Rejecting…';
		api('POST', API + '/approvals/' + encodeURIComponent(id) + (approve ? '/approve' : '/reject'), body)
		    .then(function (res) {
			d.busy = false;
			closeDialog(false);
			clearError();
			removeCard(id);
			addResult(d.kind, d.approval, res);
			refresh(false);
		}, function (e) {
			d.busy = false;
			ok.disabled = false;
			$('confirm-cancel').disabled = false;
			ok.textContent = approve ? 'Approve' : 'Reject';
			if (isTokenRejected(e)) {
				closeDialog(false);
				tokenRejected(e);
			} else if (e instanceof ApiError && e.status === 403 && e.code === 'self_approval') {
				dialogError('Refused: you requested this plan yourself, and the gateway does not ' +
				    'allow self-approval. Another operator has to approve it.');
			} else if (e instanceof ApiError && e.status === 410) {
				closeDialog(false);
				removeCard(id);
				showError('Already decided: approval ' + id + ' was decided by someone else or ' +
				    'has expired (' + e.message + '). The list was refreshed.');
				$('pending-title').focus();
				refresh(false);
			} else if (e instanceof ApiError && e.status === 0) {
				dialogError('Network error: the decision may not have been recorded (' + e.message +
				    '). Try again; a second decision on the same approval is refused safely.');
			} else {
				dialogError(describe(e));
			}
		});
	}

	/* ---- results ---- */

	function copyText(text, button, what) {
		var done = function (ok) {
			var label = button.getAttribute('data-label');
			button.textContent = ok ? 'Copied' : 'Copy failed';
			announce(ok ? what + ' copied to the clipboard.' :
			    'Copying failed: select the ' + what.toLowerCase() + ' and copy it by hand.');
			window.setTimeout(function () { button.textContent = label; }, 2000);
		};
		var fallback = function () {
			var ta = el('textarea', { class: 'offscreen', attrs: { readonly: '', 'aria-hidden': 'true', tabindex: '-1' } });
			var ok = false;
			ta.value = text;
			document.body.appendChild(ta);
			ta.select();
			try { ok = document.execCommand('copy'); } catch (e) { ok = false; }
			ta.remove();
			button.focus();
			return ok;
		};
		if (navigator.clipboard && window.isSecureContext)
			navigator.clipboard.writeText(text).then(function () { done(true); },
			    function () { done(fallback()); });
		else
			done(fallback());
	}

	function copyButton(label, text, what) {
		var b = el('button', { attrs: { type: 'button', 'data-label': label }, text: label });
		b.addEventListener('click', function () { copyText(text, b, what); });
		return b;
	}

	function addResult(kind, a, res) {
		var list = $('result-list'), hid = 'result-' + (++state.results), box, approve = kind === 'approve';
		var planId = str(res.plan_id || a.plan_id), token = str(res.token), headers, dismiss;
		box = el('article', { class: 'result ' + (approve ? 'result-approved' : 'result-rejected'),
		    attrs: { 'aria-labelledby': hid } });
		box.appendChild(el('h3', { attrs: { id: hid, tabindex: '-1' } },
		    approve ? 'Approved plan ' : 'Rejected plan ', el('code', { class: 'id', text: planId })));
		if (approve) {
			headers = 'x-governance-plan-id: ' + planId + '\nx-governance-token: ' + token;
			box.appendChild(el('p', null, 'Re-send the original request unchanged with these two ' +
			    'headers. The token is shown only here, once',
			    res.expires_at ? el('span', null, '; it ', timeEl('expires', Number(res.expires_at))) : null, '.'));
			box.appendChild(el('dl', { class: 'kv' },
			    el('div', null, el('dt', { text: 'Plan id' }), el('dd', null, el('code', { class: 'plan-id', text: planId }))),
			    el('div', null, el('dt', { text: 'Token' }), el('dd', null, el('code', { class: 'token', text: token })))));
			box.appendChild(el('p', { class: 'label', attrs: { id: hid + '-h' }, text: 'Headers to add' }));
			box.appendChild(el('pre', { class: 'headers', attrs: { 'aria-labelledby': hid + '-h' } },
			    el('code', { text: headers })));
		} else {
			box.appendChild(el('p', { text: 'Rejected as ' + state.operator +
			    '. The agent\'s request stays blocked.' }));
		}
		dismiss = el('button', { class: 'link', attrs: { type: 'button' }, text: 'Dismiss' });
		dismiss.addEventListener('click', function () {
			box.remove();
			if (!list.firstElementChild)
				$('results').hidden = true;
			$('pending-title').focus();
		});
		box.appendChild(el('div', { class: 'buttons' },
		    approve ? copyButton('Copy token', token, 'Token') : null,
		    approve ? copyButton('Copy headers', headers, 'Headers') : null,
		    dismiss));
		list.insertBefore(box, list.firstChild);
		$('results').hidden = false;
		announce(approve ? 'Approved plan ' + planId + '. The token and headers are shown under Your decisions.' :
		    'Rejected plan ' + planId + '.');
		box.querySelector('h3').focus();
	}

	function clearResults() {
		$('result-list').textContent = '';
		$('results').hidden = true;
	}

	/* ---- start ---- */

	function init() {
		var q = new URLSearchParams(window.location.search).get('approval');
		/* No clickjacking: the page refuses to work inside a frame (the
		 * meta CSP cannot say frame-ancestors). */
		if (window.top !== window.self) {
			$('main').hidden = true;
			showError('This page does not work inside a frame. Open it directly.');
			return;
		}
		if (q && ID_RE.test(q))
			state.linkedId = q;
		else if (q)
			showError('The link names no valid approval id; showing all pending approvals.');
		state.token = load(KEY_TOKEN);
		state.operator = load(KEY_NAME);

		$('login-form').addEventListener('submit', onLogin);
		$('refresh').addEventListener('click', function () { refresh(true); });
		$('forget').addEventListener('click', forget);
		$('change-name').addEventListener('click', function () { showLogin('', true); });
		$('login-cancel').addEventListener('click', function () {
			showApp();
			$('change-name').focus();
		});
		$('confirm-text').addEventListener('input', function () {
			if ($('confirm-text').value.trim()) {
				$('confirm-text').removeAttribute('aria-invalid');
				$('confirm-error').hidden = true;
			}
		});
		$('confirm-form').addEventListener('submit', onDialogSubmit);
		$('confirm-cancel').addEventListener('click', function () { closeDialog(true); });
		$('confirm').addEventListener('keydown', onDialogKey);
		$('confirm').addEventListener('cancel', function (ev) {
			ev.preventDefault();
			if (state.dialog && !state.dialog.busy)
				closeDialog(true);
		});
		document.addEventListener('visibilitychange', function () {
			if (!document.hidden && state.timer)
				refresh(false);
		});

		if (state.token && state.operator) {
			showApp();
			refresh(false).then(function (ok) { if (ok) focusLinked(); });
		} else {
			showLogin('', !!state.token);
		}
	}

	if (document.readyState === 'loading')
		document.addEventListener('DOMContentLoaded', init);
	else
		init();
}());

// Sáng kiến web chat: one script tag adds a chat button and panel to any page
// (data-mode="page" fills the page instead: GET /chat). No framework, no request to
// anyone but the gateway that served this file.
(function () {
  "use strict";
  var T = /*STRINGS*/{};
  var script = document.currentScript;
  if (!script || window.__skWebchat) return;
  window.__skWebchat = true;
  var base = new URL(script.src, location.href).origin;
  var mode = script.getAttribute("data-mode") === "page" ? "page" : "widget";
  var lang = pickLang(script.getAttribute("data-lang") || document.documentElement.lang || navigator.language);
  var t = T[lang];
  var storeKey = "sk-webchat:" + base;
  var state = load();
  // A new page shows the bot's side of the conversation again, from the first reply kept.
  state.last = "";
  var es = null, renewTimer = null, starting = null;

  function pickLang(hint) {
    hint = (hint || "").toLowerCase();
    return hint === "en" || hint.indexOf("en-") === 0 ? "en" : "vi";
  }
  function load() {
    try { return JSON.parse(localStorage.getItem(storeKey)) || {}; } catch (e) { return {}; }
  }
  function save() {
    try { localStorage.setItem(storeKey, JSON.stringify(state)); } catch (e) { /* private mode: this page only */ }
  }
  function el(tag, cls, text) {
    var e = document.createElement(tag);
    if (cls) e.className = cls;
    if (text != null) e.textContent = text;
    return e;
  }

  // The panel lives in a shadow root, so the host page's styles and ours never meet.
  var host = el("div");
  host.id = "sk-webchat";
  var root = host.attachShadow ? host.attachShadow({ mode: "open" }) : host;
  var css = ":host{all:initial}*{box-sizing:border-box;font-family:system-ui,-apple-system,'Segoe UI',Roboto,Arial,sans-serif}" +
    ".btn{position:fixed;right:16px;bottom:16px;z-index:2147483000;border:0;border-radius:28px;padding:14px 20px;background:#b71c1c;color:#fff;font-size:16px;box-shadow:0 2px 8px rgba(0,0,0,.3);cursor:pointer}" +
    ".panel{position:fixed;right:16px;bottom:80px;z-index:2147483001;width:370px;height:560px;max-height:calc(100vh - 96px);display:flex;flex-direction:column;background:#fff;color:#1a1a1a;border-radius:12px;box-shadow:0 4px 24px rgba(0,0,0,.3);overflow:hidden}" +
    ".panel[hidden]{display:none}.page{position:static;width:100%;height:100vh;max-height:none;border-radius:0;box-shadow:none;max-width:720px;margin:0 auto}" +
    "header{display:flex;align-items:center;gap:8px;padding:12px 14px;background:#b71c1c;color:#fff;font-size:16px;font-weight:600}header span{flex:1}" +
    "header button,header a{background:none;border:0;color:#fff;font-size:14px;cursor:pointer;text-decoration:underline}" +
    ".log{flex:1;overflow-y:auto;padding:12px;background:#f6f6f6;display:flex;flex-direction:column;gap:8px}" +
    ".msg{max-width:85%;padding:9px 12px;border-radius:14px;white-space:pre-wrap;word-wrap:break-word;font-size:15px;line-height:1.4}" +
    ".bot{align-self:flex-start;background:#fff;border:1px solid #ddd}.me{align-self:flex-end;background:#b71c1c;color:#fff}" +
    ".note{align-self:center;color:#666;font-size:13px}.choices{display:flex;flex-wrap:wrap;gap:6px;align-self:flex-start;max-width:90%}" +
    ".choices button{border:1px solid #b71c1c;background:#fff;color:#b71c1c;border-radius:16px;padding:7px 12px;font-size:14px;cursor:pointer}" +
    ".choices button:disabled{opacity:.5;cursor:default}form{display:flex;gap:6px;padding:8px;border-top:1px solid #ddd;background:#fff}" +
    "textarea{flex:1;resize:none;border:1px solid #ccc;border-radius:8px;padding:8px;font-size:16px;height:42px}" +
    "form button{border:0;border-radius:8px;background:#b71c1c;color:#fff;padding:0 16px;font-size:15px;cursor:pointer}" +
    "form .attach{background:#fff;color:#b71c1c;border:1px solid #ccc;padding:0 10px;font-size:18px}" +
    "@media (max-width:480px){.panel:not(.page){right:0;bottom:0;width:100vw;height:100%;max-height:none;border-radius:0}}";
  if (root.adoptedStyleSheets !== undefined && typeof CSSStyleSheet === "function" && CSSStyleSheet.prototype.replaceSync) {
    var sheet = new CSSStyleSheet();
    sheet.replaceSync(css);
    root.adoptedStyleSheets = [sheet];
  } else {
    root.appendChild(el("style", null, css));
  }

  var panel = el("div", "panel" + (mode === "page" ? " page" : ""));
  panel.setAttribute("role", "dialog");
  panel.setAttribute("aria-label", t.title);
  var head = el("header");
  head.appendChild(el("span", null, t.title));
  if (mode === "page") {
    var other = el("a", null, t.language);
    other.href = "?lang=" + (lang === "vi" ? "en" : "vi");
    other.lang = lang === "vi" ? "en" : "vi";
    head.appendChild(other);
  } else {
    var close = el("button", null, t.close);
    close.type = "button";
    close.onclick = function () { panel.hidden = true; toggle.hidden = false; };
    head.appendChild(close);
  }
  var log = el("div", "log");
  log.setAttribute("aria-live", "polite");
  var form = el("form");
  var input = el("textarea");
  input.placeholder = t.placeholder;
  input.setAttribute("aria-label", t.placeholder);
  input.maxLength = 4000;
  var sendBtn = el("button", null, t.send);
  sendBtn.type = "submit";
  var picker = el("input");
  picker.type = "file";
  picker.multiple = true;
  picker.accept = "image/*,.pdf,.doc,.docx,.xls,.xlsx";
  picker.hidden = true;
  var attach = el("button", "attach", "📎");
  attach.type = "button";
  attach.title = t.attach;
  attach.setAttribute("aria-label", t.attach);
  attach.onclick = function () { picker.click(); };
  picker.onchange = function () {
    Array.prototype.slice.call(picker.files, 0, 5).forEach(sendFile);
    picker.value = "";
  };
  form.appendChild(attach);
  form.appendChild(picker);
  form.appendChild(input);
  form.appendChild(sendBtn);
  panel.appendChild(head);
  panel.appendChild(log);
  panel.appendChild(form);
  root.appendChild(panel);
  var toggle = el("button", "btn", t.open);
  toggle.type = "button";
  if (mode === "widget") {
    panel.hidden = true;
    toggle.onclick = function () { panel.hidden = false; toggle.hidden = true; start(); input.focus(); };
    root.appendChild(toggle);
  }
  (document.body || document.documentElement).appendChild(host);

  function show(node) {
    log.appendChild(node);
    log.scrollTop = log.scrollHeight;
  }
  function note(text) {
    var n = el("div", "note", text);
    show(n);
    return n;
  }

  // start opens the conversation (or renews the token of the one kept) and its
  // event stream; several calls at once share one.
  function start() {
    if (starting) return starting;
    var headers = { "Content-Type": "application/json" };
    if (state.token) headers.Authorization = "Bearer " + state.token;
    starting = fetch(base + "/webchat/api/conversations", {
      method: "POST", headers: headers, body: JSON.stringify({ lang: lang })
    }).then(function (res) {
      if (!res.ok) throw new Error("status " + res.status);
      return res.json().then(function (a) {
        if (res.status === 201 || a.conversation !== state.conversation) {
          state = { conversation: a.conversation, last: "" };
          log.textContent = "";
        }
        state.token = a.token;
        state.expires = a.expires;
        save();
        listen();
        clearTimeout(renewTimer);
        var left = Date.parse(a.expires) - Date.now();
        renewTimer = setTimeout(start, Math.max(left / 2, 60000));
      });
    }).catch(function () {
      note(t.offline);
      setTimeout(start, 5000);
    }).then(function () { starting = null; });
    return starting;
  }

  function listen() {
    if (es) es.close();
    var url = base + "/webchat/api/events?token=" + encodeURIComponent(state.token);
    if (state.last) url += "&after=" + encodeURIComponent(state.last);
    es = new EventSource(url);
    es.onmessage = function (e) {
      var r;
      try { r = JSON.parse(e.data); } catch (err) { return; }
      state.last = e.lastEventId;
      save();
      drawReply(r);
    };
    es.onerror = function () {
      // The browser reconnects by itself with Last-Event-ID; a refused stream (the
      // token expired) ends, and the conversation is opened again.
      if (es.readyState === EventSource.CLOSED) setTimeout(start, 2000);
    };
  }

  function drawReply(r) {
    if (r.text) show(el("div", "msg bot", r.text));
    var buttons = [];
    var box = el("div", "choices");
    (r.choices || []).forEach(function (c) {
      var b = el("button", null, c.label);
      b.type = "button";
      b.onclick = function () {
        buttons.forEach(function (x) { x.disabled = true; });
        send({ payload: c.payload }, c.label);
      };
      buttons.push(b);
      box.appendChild(b);
    });
    if (r.request === "location" && navigator.geolocation) {
      var loc = el("button", null, t.location);
      loc.type = "button";
      loc.onclick = function () {
        navigator.geolocation.getCurrentPosition(function (p) {
          buttons.forEach(function (x) { x.disabled = true; });
          send({ location: { lat: p.coords.latitude, lon: p.coords.longitude } }, t.location_sent);
        }, function () { note(t.location_denied); }, { enableHighAccuracy: true, timeout: 15000 });
      };
      buttons.push(loc);
      box.appendChild(loc);
    }
    if (buttons.length) show(box);
  }

  // send posts one message, and again with the same id when no answer came: the
  // gateway runs a message once whatever the retries.
  function send(body, shown) {
    body.id = "w" + Date.now().toString(36) + Math.random().toString(36).slice(2, 10);
    show(el("div", "msg me", shown));
    var tries = 0;
    (function attempt() {
      fetch(base + "/webchat/api/messages", {
        method: "POST",
        headers: { "Content-Type": "application/json", Authorization: "Bearer " + state.token },
        body: JSON.stringify(body)
      }).then(function (res) {
        if (res.status === 401) return start().then(function () { if (tries++ < 3) attempt(); });
        if (res.status === 202) return;
        if ((res.status >= 500 || res.status === 429) && tries++ < 3) return setTimeout(attempt, 1500 * tries);
        note(t.error);
      }).catch(function () {
        if (tries++ < 3) setTimeout(attempt, 1500 * tries); else note(t.error);
      });
    })();
  }

  // sendFile uploads one photo or document, again with the same id when no answer came.
  function sendFile(file) {
    var id = "f" + Date.now().toString(36) + Math.random().toString(36).slice(2, 10);
    show(el("div", "msg me", "📎 " + file.name));
    if (file.size > 20 * 1024 * 1024) { note(t.file_too_big); return; }
    var tries = 0;
    (function attempt() {
      var fd = new FormData();
      fd.append("id", id);
      fd.append("file", file, file.name);
      fetch(base + "/webchat/api/files", { method: "POST", headers: { Authorization: "Bearer " + state.token }, body: fd })
        .then(function (res) {
          if (res.status === 202) return;
          if (res.status === 413) return note(t.file_too_big);
          if ((res.status >= 500 || res.status === 429) && tries++ < 3) return setTimeout(attempt, 1500 * tries);
          note(t.error);
        }).catch(function () {
          if (tries++ < 3) setTimeout(attempt, 1500 * tries); else note(t.error);
        });
    })();
  }

  form.onsubmit = function (e) {
    e.preventDefault();
    var text = input.value.trim();
    if (!text) return;
    input.value = "";
    send({ text: text }, text);
  };
  input.onkeydown = function (e) {
    if (e.key === "Enter" && !e.shiftKey) { e.preventDefault(); form.onsubmit(e); }
  };
  if (mode === "page") start();
})();

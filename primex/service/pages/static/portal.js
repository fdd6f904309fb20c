// primex portal: progressive enhancement of the server-rendered pages (no framework, no
// build step). Decisions are signed here with a non-extractable WebCrypto Ed25519 key kept
// in IndexedDB; the server only ever receives the signature (prepare -> sign -> commit).

const meta = (name) => document.querySelector(`meta[name="${name}"]`)?.content ?? "";

function b64(bytes) {
  let s = "";
  for (const b of new Uint8Array(bytes)) s += String.fromCharCode(b);
  return btoa(s);
}

function unb64(text) {
  return Uint8Array.from(atob(text), (c) => c.charCodeAt(0));
}

// --- the browser's signing key (IndexedDB keeps the CryptoKey object itself) -------------
function db() {
  return new Promise((resolve, reject) => {
    const open = indexedDB.open("primex", 1);
    open.onupgradeneeded = () => open.result.createObjectStore("keys");
    open.onsuccess = () => resolve(open.result);
    open.onerror = () => reject(open.error);
  });
}

async function idb(mode, fn) {
  const handle = await db();
  return new Promise((resolve, reject) => {
    const tx = handle.transaction("keys", mode);
    const req = fn(tx.objectStore("keys"));
    tx.oncomplete = () => resolve(req.result);
    tx.onerror = () => reject(tx.error);
  });
}

const loadKey = () => idb("readonly", (store) => store.get("signing"));

async function makeKey() {
  // extractable=false: the private key can sign, never be read (the public one always can)
  const pair = await crypto.subtle.generateKey({ name: "Ed25519" }, false, ["sign", "verify"]);
  await idb("readwrite", (store) => store.put(pair, "signing"));
  return pair;
}

async function publicKeyB64(pair) {
  return b64(await crypto.subtle.exportKey("raw", pair.publicKey));
}

async function sign(bytes) {
  const pair = await loadKey();
  if (!pair) throw new Error(meta("primex-no-key"));
  return b64(await crypto.subtle.sign({ name: "Ed25519" }, pair.privateKey, bytes));
}

// --- calls to the API with the session cookie and the CSRF token ---------------------------
async function call(method, path, body) {
  const headers = { "X-CSRF-Token": meta("primex-csrf") };
  if (body !== undefined) headers["Content-Type"] = "application/json";
  const reply = await fetch(path, {
    method, headers, credentials: "same-origin",
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const data = reply.headers.get("content-type")?.includes("json") ? await reply.json() : null;
  if (!reply.ok) {
    const error = new Error(describe(data) || `HTTP ${reply.status}`);
    error.status = reply.status;
    error.data = data;
    error.fromServer = true;
    throw error;
  }
  return data;
}

function describe(data) {
  if (!data) return "";
  const detail = data.detail;
  if (typeof detail === "string") return [detail, ...(data.lines || [])].join("\n");
  if (detail && Array.isArray(detail.lines)) return detail.lines.join("\n");
  if (Array.isArray(detail)) return detail.map((d) => `${d.loc.join(".")}: ${d.msg}`).join("\n");
  return JSON.stringify(detail);
}

// prepare -> check the draft is what the page showed -> sign -> commit (again if stale)
async function decide(prefix, input, check) {
  for (let attempt = 0; attempt < 3; attempt += 1) {
    const prepared = await call("POST", `${prefix}/prepare`, input);
    const signingInput = unb64(prepared.signing_input);
    check(prepared.draft, new TextDecoder().decode(signingInput));
    const signature = await sign(signingInput);
    try {
      return await call("POST", `${prefix}/commit`, { ...input, draft: prepared.draft, signature });
    } catch (error) {
      if (error.status !== 409 || !String(error.message).includes("prepare")) throw error;
    }
  }
  throw new Error("the log keeps moving; try again");
}

// an error as the page says it: a typed refusal by its code in the page's language, then the
// server's own line (English) after a lead-in in the page's language
function said(error) {
  if (!error.fromServer) return error.message;
  let known = "";
  try {
    known = JSON.parse(meta("primex-refusals") || "{}")[error.data?.reason] || "";
  } catch {
    known = "";
  }
  const line = `${meta("primex-server-said")} ${error.message}`;
  return known ? `${known}\n${line}` : line;
}

function status(form, text, bad = false) {
  const out = form.querySelector("[role=status]") || document.querySelector("[data-status]");
  if (!out) return;
  out.textContent = text;
  out.classList.toggle("bad", bad);
}

const lines = (text) => text.split("\n").map((l) => l.trim()).filter(Boolean);

// --- decision forms -------------------------------------------------------------------------
function decisionInput(form) {
  const kind = form.dataset.sign;
  if (kind === "approve") {
    const conditions = [];
    for (const field of form.querySelectorAll("[data-condition]")) {
      if (field.value.trim()) conditions.push(`${field.name}=${field.value.trim()}`);
    }
    // the enforceable output conditions, written as `review approve --conditions` takes them
    for (const field of form.querySelectorAll("[data-generalise]")) {
      if (field.value) conditions.push(`${field.dataset.generalise}=${field.value}`);
    }
    for (const box of form.querySelectorAll("[data-drop]")) {
      if (box.checked) conditions.push(`drop=${box.dataset.drop}`);
    }
    for (const field of form.querySelectorAll("[data-priority]")) {
      if (field.value !== field.dataset.default) {
        conditions.push(`priority.${field.dataset.priority}=${field.value}`);
      }
    }
    conditions.push(...lines(form.querySelector("[name=notes]").value));
    return { conditions };
  }
  if (kind === "return" || kind === "reject") {
    return { reasons: lines(form.querySelector("[name=reasons]").value) };
  }
  if (kind === "output-check") {
    const reasons = form.querySelector("[name=reasons]");
    return { decision: form.dataset.decision, reasons: reasons ? lines(reasons.value) : [] };
  }
  return {};
}

function expectDraft(form) {
  const rid = form.dataset.rid;
  return (draft, signed) => {
    if (draft.type !== form.dataset.event || draft.request !== rid) {
      throw new Error("the server prepared another decision than this page shows; not signed");
    }
    const manifest = form.dataset.expectManifest;
    if (manifest && (draft.body.manifest_sha256 !== manifest || !signed.includes(manifest))) {
      throw new Error("the manifest to sign is not the one shown; not signed");
    }
  };
}

// the server names the form field its one-line error is about: show it there, focus it
function clearFieldErrors(form) {
  for (const field of form.querySelectorAll("[data-field]")) {
    field.removeAttribute("aria-invalid");
    const note = document.getElementById(field.getAttribute("aria-describedby"));
    if (note) note.textContent = "";
  }
}

function showFieldError(form, error) {
  const name = error.data?.detail?.field;
  if (!name) return;
  const field = Array.from(form.querySelectorAll("[data-field]"))
    .find((f) => f.dataset.field === name) || form.querySelector("[data-field=notes]");
  if (!field) return;
  field.setAttribute("aria-invalid", "true");
  const note = document.getElementById(field.getAttribute("aria-describedby"));
  if (note) note.textContent = said(error);
  field.focus();
}

for (const form of document.querySelectorAll("form[data-sign]")) {
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    status(form, meta("primex-working"));
    clearFieldErrors(form);
    try {
      const rid = form.dataset.rid;
      await decide(`/api/requests/${rid}/${form.dataset.sign}`, decisionInput(form),
        expectDraft(form));
      status(form, meta("primex-done"));
      window.location.reload();
    } catch (error) {
      status(form, said(error), true);
      showFieldError(form, error);
    }
  });
}

for (const form of document.querySelectorAll("form[data-comment]")) {
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    try {
      await call("POST", `/api/requests/${form.dataset.rid}/comments`,
        { text: form.querySelector("[name=text]").value });
      window.location.reload();
    } catch (error) {
      status(form, said(error), true);
    }
  });
}

// --- the risk pre-assessment: the risk as asked beside the cheapest generalisations ----------
function cell(tag, text, scope) {
  const element = document.createElement(tag);
  element.textContent = text ?? "";
  if (scope) element.scope = scope;
  return element;
}

function showAssessment(box, result) {
  const labels = box.dataset;
  const verdict = cell("p", result.within_target ? labels.within : labels.notWithin);
  verdict.className = result.within_target ? "ok" : "bad";
  verdict.dataset.within = String(Boolean(result.within_target));
  const parts = [verdict];
  if (result.risk) {
    const table = document.createElement("table");
    table.append(cell("caption", labels.caption));
    const suggestions = result.suggestions || [];
    const head = document.createElement("tr");
    head.append(cell("th", "", "col"), cell("th", labels.asAsked, "col"));
    for (const s of suggestions) {
      const change = Object.entries(s.generalise || {}).map(([v, to]) => `${v} → ${to}`);
      head.append(cell("th", `${change.join(", ")} (${labels.cost} ${s.cost})`, "col"));
    }
    const thead = document.createElement("thead");
    thead.append(head);
    const tbody = document.createElement("tbody");
    for (const [metric, value] of Object.entries(result.risk)) {
      const row = document.createElement("tr");
      row.append(cell("th", metric, "row"), cell("td", String(value)));
      for (const s of suggestions) row.append(cell("td", String(s.risk?.[metric] ?? "")));
      tbody.append(row);
    }
    table.append(thead, tbody);
    parts.push(table);
  }
  for (const note of result.notes || []) parts.push(cell("p", String(note)));
  const details = document.createElement("details");
  const pre = cell("pre", JSON.stringify(result, null, 1));
  pre.className = "report";
  details.append(cell("summary", labels.full), pre);
  parts.push(details);
  box.replaceChildren(...parts);
}

// --- the request editor ---------------------------------------------------------------------
const editor = document.querySelector("form[data-editor]");
if (editor) {
  const yaml = editor.querySelector("[data-yaml]");
  const listing = document.querySelector("[data-listing]");

  editor.querySelector("[data-upload]").addEventListener("change", async (event) => {
    const file = event.target.files[0];
    if (file) yaml.value = await file.text();
  });

  // the request's lines, each followed by the problems on it
  const showProblems = (result) => {
    const section = document.querySelector("[data-problems-section]");
    section.hidden = false;
    listing.replaceChildren();
    const byLine = new Map();
    for (const p of result.problems) {
      if (!byLine.has(p.line)) byLine.set(p.line, []);
      byLine.get(p.line).push(p);
    }
    const count = document.querySelector("[data-problem-count]");
    count.textContent = result.ok ? listing.dataset.ok : result.lines.join("\n");
    const text = yaml.value.split("\n");
    text.forEach((content, index) => {
      const number = index + 1;
      const item = document.createElement("li");
      item.id = `L${number}`;
      const code = document.createElement("code");
      code.textContent = content || " ";
      item.append(code);
      for (const p of byLine.get(number) || []) {
        item.classList.add("has-problem");
        const note = document.createElement("p");
        note.className = "problem";
        note.textContent = `${listing.dataset.lineLabel} ${p.line}:${p.column} ${p.path}: ${p.what}`
          + (p.hint ? ` — ${listing.dataset.fixLabel}: ${p.hint}` : "");
        item.append(note);
      }
      listing.append(item);
    });
    // problems without a line of their own (line 0) stay in the summary above
  };

  const validate = async () => {
    try {
      const result = await call("POST", "/api/validate", { yaml: yaml.value });
      showProblems(result);
      return result;
    } catch (error) {
      const data = error.data?.detail;
      if (data && Array.isArray(data.lines)) {
        showProblems({ ok: false, problems: data.problems || [], lines: data.lines });
        return { ok: false };
      }
      status(editor, said(error), true);
      return { ok: false };
    }
  };

  editor.querySelector("[data-check]").addEventListener("click", validate);

  editor.querySelector("[data-assess]").addEventListener("click", async () => {
    status(editor, meta("primex-working"));
    try {
      const result = await call("POST", "/api/assess", { yaml: yaml.value });
      showAssessment(document.querySelector("[data-assessment]"), result);
      document.querySelector("[data-assess-section]").hidden = false;
      status(editor, meta("primex-done"));
    } catch (error) {
      if (error.data?.detail?.lines) await validate();
      status(editor, said(error), true);
    }
  });

  editor.querySelector("[data-submit]").addEventListener("click", async () => {
    status(editor, meta("primex-working"));
    const checked = await validate();
    if (!checked.ok) {
      status(editor, document.querySelector("[data-problem-count]").textContent, true);
      return;
    }
    try {
      const input = { yaml: yaml.value };
      // the entry must name the hash of exactly the text on the screen
      const digest = await crypto.subtle.digest("SHA-256", new TextEncoder().encode(yaml.value));
      const shown = Array.from(new Uint8Array(digest), (b) => b.toString(16).padStart(2, "0"))
        .join("");
      const done = await decide("/api/submissions", input, (draft) => {
        if (draft.type !== "submission" || draft.body.spec_sha256 !== shown) {
          throw new Error("the server prepared another text than the one shown; not signed");
        }
      });
      window.location.assign(`/portal/requests/${done.request}`);
    } catch (error) {
      status(editor, said(error), true);
    }
  });
}

// --- key enrolment and logout ---------------------------------------------------------------
const makeButton = document.querySelector("[data-make-key]");
if (makeButton) {
  const out = document.querySelector("[data-public-key]");
  const note = document.querySelector("[data-key-status]");
  loadKey().then(async (pair) => { if (pair) out.textContent = await publicKeyB64(pair); });
  makeButton.addEventListener("click", async () => {
    try {
      // the private key cannot be exported: replacing it loses the registered one for good
      if (await loadKey() && !window.confirm(meta("primex-replace-key"))) return;
      out.textContent = await publicKeyB64(await makeKey());
      note.textContent = meta("primex-done");
    } catch (error) {
      note.textContent = error.message;
      note.classList.add("bad");
    }
  });
}

const logout = document.querySelector("[data-logout]");
if (logout) {
  logout.addEventListener("click", async () => {
    await call("POST", "/auth/logout").catch(() => null);
    window.location.assign("/portal/");
  });
}

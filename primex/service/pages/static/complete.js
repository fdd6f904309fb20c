// primex portal: completion in the request editor from the request's JSON Schema (the one
// `primex request schema` prints, served at /portal/request.schema.json). Hand-written and
// small on purpose: no editor library, no build step, nothing from elsewhere. Ctrl+Space
// lists the keys allowed where the cursor is (by the YAML indentation) or the values allowed
// after `key:` (typing narrows the list); arrows choose, Enter inserts, Escape closes. Tab is
// never taken, so the keyboard can always leave the text area.

const area = document.querySelector("[data-yaml]");
const list = document.querySelector("[data-suggestions]");

function resolve(schema, node) {
  // follow $ref and the first object-like branch of anyOf / allOf
  for (let i = 0; node && i < 10; i += 1) {
    if (node.$ref) node = schema.$defs?.[node.$ref.split("/").pop()];
    else if (node.anyOf || node.allOf) {
      node = (node.anyOf || node.allOf).find((n) => n.type !== "null") || null;
    } else return node;
  }
  return node;
}

function child(schema, node, key) {
  node = resolve(schema, node);
  if (node?.type === "array" && node.items) node = resolve(schema, node.items);
  return resolve(schema, node?.properties?.[key]);
}

// the keys of the mappings that enclose `row` (by indentation), outermost first
function path(rows, row) {
  const indent = (text) => text.length - text.trimStart().length;
  let depth = indent(rows[row]);
  const keys = [];
  for (let i = row - 1; i >= 0 && depth > 0; i -= 1) {
    const text = rows[i].replace(/^(\s*)- /, "$1  ");
    const match = /^(\s*)([A-Za-z_][\w.]*):\s*$/.exec(text);
    if (text.trim() && indent(text) < depth) {
      if (!match) break;
      keys.unshift(match[2]);
      depth = indent(text);
    }
  }
  return keys;
}

function suggestions(schema, text, caret) {
  const before = text.slice(0, caret);
  const rows = before.split("\n");
  const line = rows[rows.length - 1];
  let node = schema;
  for (const key of path(rows, rows.length - 1)) node = child(schema, node, key);
  node = resolve(schema, node);
  const valueAt = /^\s*(?:- )?([A-Za-z_][\w.]*):\s*\[?\s*([\w-]*)$/.exec(line);
  if (valueAt) {
    let target = child(schema, node, valueAt[1]);
    if (target?.type === "array") target = resolve(schema, target.items);
    const values = target?.enum || (target?.type === "boolean" ? ["true", "false"] : []);
    return { typed: valueAt[2], items: values.filter((v) => String(v).startsWith(valueAt[2]))
      .map((v) => ({ label: String(v), insert: String(v), help: "" })) };
  }
  const keyAt = /^\s*(?:- )?([A-Za-z_]*)$/.exec(line);
  if (!keyAt || !node?.properties) return { typed: "", items: [] };
  const present = new Set(rows.slice(0, -1).map((r) => /^\s*([A-Za-z_]\w*):/.exec(r)?.[1]));
  return { typed: keyAt[1], items: Object.entries(node.properties)
    .filter(([key]) => key.startsWith(keyAt[1]) && !present.has(key))
    .map(([key, spec]) => ({ label: key, insert: `${key}: `,
      help: (spec.description || resolve(schema, spec)?.description || "").slice(0, 120) })) };
}

if (area && list) {
  let schema = null;
  let shown = { typed: "", items: [] };
  let active = 0;
  // Ctrl+Space pressed before the schema has arrived opens the list when it arrives
  const ready = fetch("/portal/request.schema.json", { credentials: "same-origin" })
    .then((reply) => (reply.ok ? reply.json() : null))
    .then((data) => { schema = data; })
    .catch(() => null);

  const close = () => {
    list.hidden = true;
    list.replaceChildren();
    area.removeAttribute("aria-activedescendant");
  };

  const mark = () => {
    list.querySelectorAll("[role=option]").forEach((item, index) => {
      item.setAttribute("aria-selected", String(index === active));
    });
    area.setAttribute("aria-activedescendant", `suggestion-${active}`);
  };

  const open = () => {
    if (!schema) return;
    shown = suggestions(schema, area.value, area.selectionStart);
    if (!shown.items.length) { close(); return; }
    active = 0;
    list.replaceChildren(...shown.items.slice(0, 30).map((s, index) => {
      const item = document.createElement("li");
      item.id = `suggestion-${index}`;
      item.setAttribute("role", "option");
      const code = document.createElement("code");
      code.textContent = s.label;
      item.append(code);
      if (s.help) item.append(` — ${s.help}`);
      item.addEventListener("mousedown", (event) => { event.preventDefault(); accept(index); });
      return item;
    }));
    list.hidden = false;
    mark();
  };

  const accept = (index) => {
    const choice = shown.items[index];
    const caret = area.selectionStart;
    const start = caret - shown.typed.length;
    area.setRangeText(choice.insert, start, caret, "end");
    close();
    area.focus();
  };

  area.addEventListener("keydown", (event) => {
    if (event.ctrlKey && event.key === " ") { event.preventDefault(); ready.then(open); return; }
    if (list.hidden) return;
    const count = Math.min(shown.items.length, 30);
    if (event.key === "ArrowDown" || event.key === "ArrowUp") {
      event.preventDefault();
      active = (active + (event.key === "ArrowDown" ? 1 : count - 1)) % count;
      mark();
    } else if (event.key === "Enter") {
      event.preventDefault();
      accept(active);
    } else if (event.key === "Escape") {
      event.preventDefault();
      close();
    }
  });
  area.addEventListener("input", () => { if (!list.hidden) open(); });
  area.addEventListener("blur", close);
}

// xent's editable table: a Streamlit custom component (components v2, inline, no iframe).
//
// It shows a table of cells (numbers, a choice per row, a checkbox per row) and keeps the user's
// edit log in st.data_editor's format, {row: {column: value}}, sending all of it as the state value
// "edited_rows" the moment an edit is committed (Enter, Tab, the up/down arrow keys, leaving the
// cell, a choice, a paste). Numbers are sent as the text typed: the server parses and checks every value
// (ui/state.parse_cell) and names the bad ones next to the table. Nothing is computed here.
//
// A read-only table (data.readonly: the step-by-step tables) is redrawn from data on every call.
//
// The table is built once per data.version (a new table from the server: a preset, a resize);
// later calls with the same version only refresh the marks of the cells the server refused.

export default function ({ data, parentElement, setStateValue }) {
  if (data.readonly) {
    show(data, parentElement);
    return;
  }
  let grid = parentElement.__xentGrid;
  if (!grid || grid.version !== data.version) {
    grid = build(data, parentElement);
    parentElement.__xentGrid = grid;
  }
  grid.send = (log) => setStateValue("edited_rows", log);
  markInvalid(grid, data.invalid || []);
}

function build(data, root) {
  const grid = { version: data.version, log: structuredClone(data.edits || {}), cells: [], send: null, wrap: null };
  const columns = data.columns;
  const table = document.createElement("table");
  table.setAttribute("aria-label", data.label);

  const head = table.createTHead().insertRow();
  const rowLabels = data.row_labels; // each row's name, or (by default) its number
  head.append(headerCell(rowLabels ? "" : "row", "col"));
  for (const column of columns) {
    const th = headerCell(column.label, "col");
    th.className = column.kind;
    if (column.help) th.title = column.help;
    head.append(th);
  }

  const body = table.createTBody();
  data.rows.forEach((values, r) => {
    const tr = body.insertRow();
    const rowLabel = rowLabels ? rowLabels[r] : `row ${r}`;
    tr.append(headerCell(rowLabels ? rowLabel : String(r), "row"));
    grid.cells.push(columns.map((column, c) => {
      const td = tr.insertCell();
      td.className = column.kind;
      const edited = grid.log[r]?.[column.id];
      const control = makeControl(column, values[c], edited, `${rowLabel}, ${column.label}`);
      control.dataset.row = r;
      control.dataset.col = c;
      if (edited !== undefined) td.classList.add("edited");
      td.append(control);
      return control;
    }));
  });

  table.addEventListener("focusin", (e) => onFocus(grid, columns, e.target));
  table.addEventListener("focusout", (e) => commitText(grid, columns, e.target));
  table.addEventListener("keydown", (e) => onKey(grid, columns, e));
  table.addEventListener("change", (e) => onChoice(grid, columns, e.target));
  table.addEventListener("paste", (e) => onPaste(grid, columns, e));

  const wrap = document.createElement("div");
  wrap.className = "wrap";
  wrap.append(table);
  const old = root.__xentGrid;
  if (old) {
    old.send = null; // removing a focused input fires its focusout: nothing of the old table is sent
    old.wrap.remove(); // the root also holds Streamlit's <style>, which stays
  }
  root.append(wrap);
  grid.wrap = wrap;
  return grid;
}

function headerCell(text, scope) {
  const th = document.createElement("th");
  th.scope = scope;
  th.textContent = text; // text, never markup: class names are the user's
  return th;
}

function makeControl(column, value, edited, label) {
  let control;
  if (column.kind === "choice") {
    control = document.createElement("select");
    for (const option of column.options) control.add(new Option(option, option));
    control.value = edited !== undefined ? edited : value;
  } else if (column.kind === "check") {
    control = document.createElement("input");
    control.type = "checkbox";
    control.checked = Boolean(edited !== undefined ? edited : value);
  } else {
    control = document.createElement("input");
    control.type = "text";
    // no inputMode="decimal": some phones' decimal keypads have no minus sign
    control.autocomplete = "off";
    control.spellcheck = false;
    // data-full: the cell's value with every digit (or as typed); data-shown: rounded for display
    control.dataset.full = edited !== undefined ? String(edited ?? "") : String(value);
    control.dataset.shown = Number(value).toFixed(column.decimals);
    control.value = edited !== undefined ? control.dataset.full : control.dataset.shown;
  }
  control.setAttribute("aria-label", label);
  return control;
}

function isNumber(control) {
  return control instanceof HTMLInputElement && control.type === "text" && control.dataset.row !== undefined;
}

function onFocus(grid, columns, control) {
  if (!isNumber(control)) return;
  control.value = control.dataset.full; // every digit while editing
  control.dataset.before = control.value;
  control.select();
}

function commitText(grid, columns, control) {
  if (!isNumber(control) || control.dataset.before === undefined) return;
  const before = control.dataset.before;
  delete control.dataset.before;
  const id = columns[control.dataset.col].id;
  if (control.value === before) {
    if (grid.log[control.dataset.row]?.[id] === undefined) control.value = control.dataset.shown;
    return;
  }
  control.dataset.full = control.value;
  record(grid, control, id, control.value);
  send(grid);
}

function onChoice(grid, columns, control) {
  if (isNumber(control) || control.dataset.row === undefined) return;
  const id = columns[control.dataset.col].id;
  record(grid, control, id, control.type === "checkbox" ? control.checked : control.value);
  send(grid);
}

function record(grid, control, id, value) {
  const row = control.dataset.row;
  (grid.log[row] ??= {})[id] = value;
  control.closest("td").classList.add("edited");
}

function send(grid) {
  if (grid.send) grid.send(structuredClone(grid.log));
}

const MOVES = { Enter: [1, 0], ArrowDown: [1, 0], ArrowUp: [-1, 0] };

function onKey(grid, columns, e) {
  const control = e.target;
  if (control.dataset.row === undefined || e.isComposing) return; // keys composing text (an input method)
  if (e.key === "Escape" && isNumber(control) && control.dataset.before !== undefined) {
    control.value = control.dataset.before; // undo the typing, stay in the cell
    control.select();
    e.preventDefault();
    return;
  }
  const move = MOVES[e.key];
  const plain = !e.altKey && !e.ctrlKey && !e.metaKey && (!e.shiftKey || e.key === "Enter"); // Shift+arrow selects text
  if (!move || !plain || (control.tagName === "SELECT" && e.key !== "Enter")) return;
  const r = Number(control.dataset.row) + (e.shiftKey ? -1 : move[0]);
  const next = grid.cells[r]?.[Number(control.dataset.col)];
  e.preventDefault();
  if (next) {
    next.focus(); // leaving the cell commits it (focusout)
    return;
  }
  // no row beyond: commit what changed and stay in the cell, still showing every digit
  if (isNumber(control) && control.value !== control.dataset.before) {
    commitText(grid, columns, control);
    control.dataset.before = control.value;
  }
  control.select?.();
}

function onPaste(grid, columns, e) {
  const control = e.target;
  if (!isNumber(control)) return;
  const text = e.clipboardData?.getData("text/plain") ?? "";
  if (!/[\t\n]/.test(text.trim())) return; // one value: the input takes it as typed
  e.preventDefault();
  const numberCols = columns.map((column, c) => (column.kind === "number" ? c : -1)).filter((c) => c >= 0);
  const start = numberCols.indexOf(Number(control.dataset.col));
  const lines = text.replace(/\r/g, "").replace(/\n+$/, "").split("\n");
  lines.forEach((line, i) => {
    line.split("\t").forEach((cell, j) => {
      const target = grid.cells[Number(control.dataset.row) + i]?.[numberCols[start + j]];
      if (!target) return;
      target.value = target.dataset.full = cell.trim();
      record(grid, target, columns[target.dataset.col].id, target.value);
    });
  });
  control.dataset.before = control.value;
  send(grid);
}

function markInvalid(grid, invalid) {
  const bad = new Set(invalid.map(([r, c]) => `${r}:${c}`));
  grid.cells.forEach((line, r) =>
    line.forEach((control, c) => {
      const refused = bad.has(`${r}:${c}`);
      if (refused) control.setAttribute("aria-invalid", "true");
      else control.removeAttribute("aria-invalid");
    }),
  );
}

function show(data, root) {
  const table = document.createElement("table");
  table.setAttribute("aria-label", data.label);
  const head = table.createTHead().insertRow();
  for (const column of data.columns) {
    const th = headerCell(column.label, "col");
    th.className = column.kind;
    head.append(th);
  }
  const body = table.createTBody();
  for (const values of data.rows) {
    const tr = body.insertRow();
    values.forEach((value, c) => {
      const td = tr.insertCell();
      td.className = data.columns[c].kind;
      td.textContent = value === null ? "" : String(value);
    });
  }
  let wrap = root.__xentView;
  if (!wrap) {
    // a region the keyboard can scroll when the table is wider than the screen
    wrap = root.__xentView = document.createElement("div");
    wrap.className = "wrap view";
    wrap.tabIndex = 0;
    wrap.setAttribute("role", "region");
    root.append(wrap);
  }
  wrap.setAttribute("aria-label", data.label);
  wrap.replaceChildren(table); // the same region: a sideways scroll position survives the update
}

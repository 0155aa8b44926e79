// Builds the page from elements and text nodes only: nothing from the API is ever parsed as
// HTML, so a statement or a quote can hold any characters without becoming markup.

/** An element: h('a', { href: '/', class: 'x', onclick: fn }, 'text', child, [more]). */
export function h(tag, attributes = {}, ...children) {
  const element = document.createElement(tag);
  for (const [name, value] of Object.entries(attributes ?? {})) {
    if (value === null || value === undefined || value === false) continue;
    if (name.startsWith('on') && typeof value === 'function') {
      element.addEventListener(name.slice(2), value);
    } else if (name === 'dataset') {
      Object.assign(element.dataset, value);
    } else if (value === true) {
      element.setAttribute(name, '');
    } else {
      element.setAttribute(name, String(value));
    }
  }
  append(element, children);
  return element;
}

function append(element, children) {
  for (const child of children) {
    if (child === null || child === undefined || child === false) continue;
    if (Array.isArray(child)) append(element, child);
    else element.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
}

/** Replaces what an element holds. */
export function fill(element, ...children) {
  element.replaceChildren();
  append(element, children);
  return element;
}

/** A labelled form field: the label's for= names the control, so screen readers and tests find it by its words. */
export function field(label, control, hint) {
  const id = control.id || (control.id = uniqueId(control.name || 'field'));
  const hintElement = hint ? h('p', { class: 'hint', id: `${id}-hint` }, hint) : null;
  if (hintElement) control.setAttribute('aria-describedby', hintElement.id);
  return h('div', { class: 'field' }, h('label', { for: id }, label), control, hintElement);
}

let counter = 0;
export function uniqueId(prefix) {
  counter += 1;
  return `${prefix}-${counter}`;
}

/** A select whose options are [value, words] pairs. */
export function select(attributes, options, selected) {
  return h('select', attributes, options.map(([value, words]) => h('option', { value, selected: value === selected }, words)));
}

/** Waits until the user stops typing for a moment before calling fn (the near-duplicate and source look-ups). */
export function debounce(fn, milliseconds) {
  let timer;
  return (...args) => {
    clearTimeout(timer);
    timer = setTimeout(() => fn(...args), milliseconds);
  };
}

/**
 * Runs one submission at a time: the button is disabled (and says it is busy) until the work
 * ends, so a double click sends nothing twice. Returns the work's result.
 */
export async function whileBusy(button, work) {
  if (button.getAttribute('aria-busy') === 'true') return undefined;
  button.disabled = true;
  button.setAttribute('aria-busy', 'true');
  try {
    return await work();
  } finally {
    button.disabled = false;
    button.removeAttribute('aria-busy');
  }
}

import { createElement } from "react";

/**
 * React without JSX: Node runs the TUI's TypeScript directly (type stripping), and type stripping
 * does not transform JSX, so elements are made with `h(Component, props, ...children)`.
 */
export const h = createElement;

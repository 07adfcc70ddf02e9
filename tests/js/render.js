#!/usr/bin/env node
// Renders math as the notebook front ends do, with the real engines:
// * a TeX fragment with MathJax 3 (TeX to SVG; packages base and ams only, so an unknown macro is an
//   error rather than red text), as JupyterLab and Notebook 7 typeset, and with KaTeX (throwOnError);
// * a whole markdown output with markdown-it and VS Code's own KaTeX plugin, with the options of
//   VS Code's notebook renderer, so the $$ delimiters are read as VS Code reads them.
//
// stdin:  JSON [{"tex": "...", "display": true} or {"markdown": "..."}, ...]
// stdout: JSON [{"mathjax": {"error": null | "...", "width_ex": 12.3, "height_ex": 4.5},
//                "katex": {"error": null | "..."}}
//               or {"vscode": {"errors": [...], "displays": 3, "inline": 1}}, ...]
"use strict";

const fs = require("fs");

// The packages live where the test installed them (NODE_PATH or a node_modules beside this file).
const { mathjax } = require("mathjax-full/js/mathjax.js");
const { TeX } = require("mathjax-full/js/input/tex.js");
const { SVG } = require("mathjax-full/js/output/svg.js");
const { liteAdaptor } = require("mathjax-full/js/adaptors/liteAdaptor.js");
const { RegisterHTMLHandler } = require("mathjax-full/js/handlers/html.js");
require("mathjax-full/js/input/tex/base/BaseConfiguration.js");
require("mathjax-full/js/input/tex/ams/AmsConfiguration.js");
const katex = require("katex");
const MarkdownIt = require("markdown-it");
const markdownItKatex = require("@vscode/markdown-it-katex").default;

// VS Code's notebook markdown: extensions/markdown-math/notebook/katex.ts
const markdown = MarkdownIt({ html: true, linkify: true }).use(markdownItKatex, {
  globalGroup: true,
  enableBareBlocks: true,
  enableFencedBlocks: true,
  throwOnError: true,
});
console.log = () => {}; // the plugin logs errors it also marks in the HTML; stdout carries the JSON

const adaptor = liteAdaptor();
RegisterHTMLHandler(adaptor);
const tex = new TeX({
  packages: ["base", "ams"],
  formatError(jax, err) {
    throw err;
  },
});
const svg = new SVG({ fontCache: "none" });
const doc = mathjax.document("", { InputJax: tex, OutputJax: svg });

function ex(value) {
  const m = /^(-?[0-9.]+)ex$/.exec(value || "");
  return m ? parseFloat(m[1]) : null;
}

function withMathJax(source, display) {
  try {
    const node = doc.convert(source, { display });
    const html = adaptor.outerHTML(node);
    if (html.includes("data-mjx-error") || html.includes("<merror")) {
      const m = /data-mjx-error="([^"]*)"/.exec(html);
      return { error: m ? m[1] : "merror in output", width_ex: null, height_ex: null };
    }
    const el = adaptor.firstChild(node);
    return {
      error: null,
      width_ex: ex(adaptor.getAttribute(el, "width")),
      height_ex: ex(adaptor.getAttribute(el, "height")),
    };
  } catch (err) {
    return { error: String(err && err.message ? err.message : err), width_ex: null, height_ex: null };
  }
}

function withKatex(source, display) {
  try {
    katex.renderToString(source, { displayMode: display, throwOnError: true, strict: "error" });
    return { error: null };
  } catch (err) {
    return { error: String(err && err.message ? err.message : err) };
  }
}

function withVSCode(text) {
  const html = markdown.render(text);
  const errors = [];
  const re = /class="[^"]*katex-error[^"]*" title="([^"]*)">([^<]*)</g;
  let m;
  while ((m = re.exec(html)) !== null) errors.push(m[2] + " in " + m[1].slice(0, 200));
  return {
    errors,
    displays: (html.match(/class="katex-display"/g) || []).length,
    inline: (html.match(/class="katex"/g) || []).length,
  };
}

const input = JSON.parse(fs.readFileSync(0, "utf8"));
const results = input.map((item) =>
  item.markdown !== undefined
    ? { vscode: withVSCode(item.markdown) }
    : {
        mathjax: withMathJax(item.tex, item.display !== false),
        katex: withKatex(item.tex, item.display !== false),
      },
);
process.stdout.write(JSON.stringify(results));

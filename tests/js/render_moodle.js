#!/usr/bin/env node
// Typesets the math of a Moodle XML export with MathJax 3 (mathjax-full, TeX to MathML), configured
// like Moodle's MathJax filter: Moodle loads MathJax 3's tex-mml-chtml component with an empty
// configuration (filter/mathjaxloader/settings.php), whose TeX input has the packages base, ams and
// newcommand (plus require/autoload/configmacros, which add nothing a fragment here could use).
// noundefined and noerrors are left out on purpose: an unknown macro or a TeX error must surface
// as an error here instead of red text or raw source on a student's page.
//
// stdin:  JSON [{"tex": "...", "display": true}, ...]
// stdout: JSON [{"error": null | "message"}, ...]
"use strict";

const fs = require("fs");

// The packages live where the test installed them (NODE_PATH or a node_modules beside this file).
const { mathjax } = require("mathjax-full/js/mathjax.js");
const { TeX } = require("mathjax-full/js/input/tex.js");
const { liteAdaptor } = require("mathjax-full/js/adaptors/liteAdaptor.js");
const { RegisterHTMLHandler } = require("mathjax-full/js/handlers/html.js");
const { SerializedMmlVisitor } = require("mathjax-full/js/core/MmlTree/SerializedMmlVisitor.js");
const { STATE } = require("mathjax-full/js/core/MathItem.js");
require("mathjax-full/js/input/tex/base/BaseConfiguration.js");
require("mathjax-full/js/input/tex/ams/AmsConfiguration.js");
require("mathjax-full/js/input/tex/newcommand/NewcommandConfiguration.js");

const adaptor = liteAdaptor();
RegisterHTMLHandler(adaptor);
const tex = new TeX({
  packages: ["base", "ams", "newcommand"],
  formatError(jax, err) {
    throw err;
  },
});
const doc = mathjax.document("", { InputJax: tex });
const visitor = new SerializedMmlVisitor();

function typeset(source, display) {
  try {
    const mml = visitor.visitTree(doc.convert(source, { display, end: STATE.CONVERT }));
    if (mml.includes("<merror")) {
      return { error: "merror in the output: " + mml.slice(0, 300) };
    }
    return { error: null };
  } catch (err) {
    return { error: String(err && err.message ? err.message : err) };
  }
}

const items = JSON.parse(fs.readFileSync(0, "utf8"));
process.stdout.write(JSON.stringify(items.map((item) => typeset(item.tex, item.display))));

// Validates Kubernetes objects (a JSON array on stdin) against the OpenAPI
// schema of kubernetes-models; prints one line per invalid object and exits 1.
// Objects of kind List are validated item by item.
const fs = require("fs");
const objects = JSON.parse(fs.readFileSync(0, "utf8"));
let failed = 0, checked = 0;
function validate(object, where) {
  if (object.kind === "List") {
    object.items.forEach((item, i) => validate(item, `${where} items[${i}]`));
    return;
  }
  const group = object.apiVersion.includes("/") ? object.apiVersion : `v1`;
  let model;
  try {
    model = require(`kubernetes-models/${group}`)[object.kind];
  } catch (e) {
    model = undefined;
  }
  if (!model) {
    console.log(`${where}: no schema for ${object.apiVersion} ${object.kind}`);
    failed++;
    return;
  }
  try {
    new model(object).validate();
    checked++;
  } catch (e) {
    console.log(`${where}: ${object.kind}/${object.metadata && object.metadata.name}: ${e.message.split("\n").slice(0, 5).join(" ")}`);
    failed++;
  }
}
objects.forEach(([where, object]) => validate(object, where));
console.log(`${checked} objects valid, ${failed} invalid`);
process.exit(failed ? 1 : 0);

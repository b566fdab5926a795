// The example operations the explorer opens with, one tab each: examples/<n>-<name>.graphql,
// with its variables in examples/<n>-<name>.json when it has any. The gateway's tests check
// that every one validates against the partner schema with its variables.
const operations = import.meta.glob('./examples/*.graphql', {
  query: '?raw',
  import: 'default',
  eager: true,
});
const variables = import.meta.glob('./examples/*.json', { import: 'default', eager: true });

function isoDay(date) {
  return date.toISOString().slice(0, 10);
}

// Usage is asked for this month (UTC) so far, not the month the example was written in.
function thisMonth() {
  const now = new Date();
  return {
    from: isoDay(new Date(Date.UTC(now.getUTCFullYear(), now.getUTCMonth(), 1))),
    to: isoDay(now),
  };
}
const LIVE_VARIABLES = { './examples/2-usage.json': thisMonth };

export function exampleTabs() {
  return Object.keys(operations)
    .sort((a, b) => parseInt(a.slice(11), 10) - parseInt(b.slice(11), 10))
    .map((path) => {
      const variablesPath = path.replace(/\.graphql$/, '.json');
      let values = variables[variablesPath];
      if (values && LIVE_VARIABLES[variablesPath]) {
        values = { ...values, ...LIVE_VARIABLES[variablesPath]() };
      }
      return {
        query: operations[path],
        variables: values ? JSON.stringify(values, null, 2) : null,
      };
    });
}

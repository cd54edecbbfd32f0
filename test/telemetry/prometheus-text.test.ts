import { parsePrometheusText } from '../support/prometheus-text';

// The checker of GET /metrics is itself checked: it reads the exposition format's own example
// and refuses what Prometheus refuses.
const EXAMPLE = `# HELP http_requests_total The total number of HTTP requests.
# TYPE http_requests_total counter
http_requests_total{method="post",code="200"} 1027 1395066363000
http_requests_total{method="post",code="400"}    3 1395066363000

# Escaping in label values:
msdos_file_access_time_seconds{path="C:\\\\DIR\\\\FILE.TXT",error="Cannot find file:\\n\\"FILE.TXT\\""} 1.458255915e9

metric_without_timestamp_and_labels 12.47
something_weird{problem="division by zero"} +Inf -3982045

# HELP http_request_duration_seconds A histogram of the request duration.
# TYPE http_request_duration_seconds histogram
http_request_duration_seconds_bucket{le="0.05"} 24054
http_request_duration_seconds_bucket{le="0.1"} 33444
http_request_duration_seconds_bucket{le="+Inf"} 144320
http_request_duration_seconds_sum 53423
http_request_duration_seconds_count 144320
`;

it("reads the exposition format's example: types, help, escaped labels, timestamps and a histogram", () => {
  const families = parsePrometheusText(EXAMPLE);
  expect(families.get('http_requests_total')).toMatchObject({ type: 'counter', help: 'The total number of HTTP requests.' });
  expect(families.get('http_requests_total')!.samples.map((s) => s.value)).toEqual([1027, 3]);
  expect(families.get('msdos_file_access_time_seconds')!.samples[0]!.labels).toEqual({
    path: 'C:\\DIR\\FILE.TXT',
    error: 'Cannot find file:\n"FILE.TXT"',
  });
  expect(families.get('something_weird')!.samples[0]!.value).toBe(Infinity);
  expect(families.get('http_request_duration_seconds')!.samples).toHaveLength(5);
});

it.each([
  ['an unquoted label value', 'a{x=1} 1'],
  ['an unknown escape', 'a{x="\\t"} 1'],
  ['a value that is no number', 'a 1O'],
  ['a bad metric name', '1a 1'],
  ['a series twice', 'a{x="1"} 1\na{x="1"} 2'],
  ['a family split in two', 'a 1\nb 1\na{x="1"} 1'],
  ['a TYPE after its samples', 'a 1\n# TYPE a counter'],
  ['a histogram without +Inf', '# TYPE h histogram\nh_bucket{le="1"} 1\nh_sum 1\nh_count 1'],
  ['a histogram whose buckets shrink', '# TYPE h histogram\nh_bucket{le="1"} 2\nh_bucket{le="+Inf"} 1\nh_sum 1\nh_count 1'],
  ['a histogram whose +Inf is not its count', '# TYPE h histogram\nh_bucket{le="+Inf"} 2\nh_sum 1\nh_count 1'],
])('refuses %s', (_, text) => {
  expect(() => parsePrometheusText(text)).toThrow();
});

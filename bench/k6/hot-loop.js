// k6 counterpart of bench/scenarios/nginx-check.yaml: one GET and one check
// per iteration, no think time. VUs and duration come from the command line.
import http from 'k6/http';
import { check } from 'k6';

export default function () {
  const res = http.get(__ENV.BASE_URL + '/');
  check(res, { 'status is 200': (r) => r.status === 200 });
}

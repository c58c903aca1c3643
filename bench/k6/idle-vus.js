// k6 counterpart of bench/scenarios/idle-vus.yaml: one GET, then 1 s asleep.
import http from 'k6/http';
import { sleep } from 'k6';

export default function () {
  http.get(__ENV.BASE_URL + '/');
  sleep(1);
}

use super::*;
use crate::scenario::model::ScenarioFile;
use crate::scenario::schema::required_fields;
use crate::scenario::yaml::parse_document;

fn read(text: &str) -> (Option<ScenarioFile>, Vec<String>) {
    let doc = parse_document(text, 0).unwrap_or_else(|e| panic!("{e:?}"));
    let (file, problems) = deserialize::<ScenarioFile>(&doc.root, required_fields());
    let shown = problems
        .iter()
        .map(|p| {
            let hint = p
                .hint
                .as_ref()
                .map(|h| format!(" ({h})"))
                .unwrap_or_default();
            format!(
                "{}:{} {} [{}]: {}{hint}",
                p.mark.line, p.mark.column, p.field, p.blocks, p.message
            )
        })
        .collect();
    (file, shown)
}

#[test]
fn every_problem_is_collected_and_the_rest_is_still_read() {
    let (file, problems) = read(
        "vus: many\nduration: 10s\nhttp:\n  http2: 2\n  max_redirects: -1\n  cookies: yes\nflow:\n  - request:\n      url: http://h/\n      metod: POST\n  - sleep: [1s]\n  - group: { name: g }\n",
    );
    assert_eq!(
        problems,
        vec![
            "1:6 vus [vus]: invalid type: string \"many\", expected a whole number or a \"{{ NAME }}\" template",
            "4:10 http.http2 [http.http2]: invalid type: integer `2`, expected a boolean or a \"{{ NAME }}\" template",
            "5:18 http.max_redirects [http.max_redirects]: invalid value: integer `-1`, expected a whole number or a \"{{ NAME }}\" template",
            "6:12 http.cookies [http.cookies]: invalid type: string \"yes\", expected a boolean or a \"{{ NAME }}\" template",
            "10:7 flow[0].request [flow[0].request.metod]: unknown field `metod` (did you mean `method`?)",
            "11:12 flow[1].sleep [flow[1].sleep]: invalid type: sequence, expected a string or a map",
            "12:12 flow[2].group [flow[2].group.steps]: missing field `steps`",
        ]
    );
    let file = file.expect("placeholders complete the value");
    assert_eq!(
        file.vus,
        Some(crate::scenario::model_types::Templated::Value(0))
    );
    assert_eq!(file.duration.map(|t| t.0), Some("10s".to_string()));
    let flow = file.flow.unwrap();
    assert_eq!(flow[0].request.as_ref().unwrap().url, "http://h/");
    assert_eq!(flow[2].group.as_ref().unwrap().name, "g");
}

#[test]
fn x_keys_are_skipped_in_structs_and_kept_in_free_maps() {
    let (file, problems) = read(
        "x-defaults: &d\n  timeout: 5s\n  headers: { x-request-id: abc }\nflow:\n  - request:\n      <<: *d\n      url: http://h/\n      x-note: not a field\n      json: { x-kept: 1 }\n      query: { x-q: 2 }\n",
    );
    assert_eq!(problems, Vec::<String>::new());
    let flow = file.unwrap().flow.unwrap();
    let request = flow[0].request.as_ref().unwrap();
    assert_eq!(request.timeout.as_ref().map(|t| t.0.as_str()), Some("5s"));
    assert_eq!(
        request.headers.keys().collect::<Vec<_>>(),
        vec!["x-request-id"]
    );
    assert_eq!(request.query.keys().collect::<Vec<_>>(), vec!["x-q"]);
    let json = request.json.as_ref().unwrap();
    assert_eq!(json.get("x-kept").and_then(|v| v.as_u64()), Some(1));
}

#[test]
fn unknown_fields_far_from_any_name_list_the_allowed_ones() {
    let (_, problems) = read("stages:\n  - { duration: 1s, target: 2, zzzzzz: 1 }\n");
    assert_eq!(
        problems,
        vec![
            "2:32 stages[0] [stages[0].zzzzzz]: unknown field `zzzzzz` (expected one of `duration`, `target`)"
        ]
    );
}

#[test]
fn the_hand_written_shapes_report_mismatches_and_go_on() {
    let (file, problems) = read(
        "env: [a]\nmetrics: { m: [counter], n: { type: rate, tme: true } }\nthresholds:\n  checks: [{ threshold: \"rate>0.9\" }, true]\nflow:\n  - request: { url: http://h/, expect_status: 1.5, headers: { A: [x] } }\n",
    );
    assert_eq!(
        problems,
        vec![
            "1:6 env [env]: invalid type: sequence, expected a map",
            "2:15 metrics.m [metrics.m]: invalid type: sequence, expected a string or a map",
            "2:43 metrics.n [metrics.n.tme]: unknown field `tme` (did you mean `time`?)",
            "4:39 thresholds.checks[1] [thresholds.checks[1]]: invalid type: boolean `true`, expected a string or a map",
            "6:47 flow[0].request.expect_status [flow[0].request.expect_status]: invalid type: floating point `1.5`, expected a status code, a range like \"200-299\", or a list of them",
            "6:66 flow[0].request.headers.A [flow[0].request.headers.A]: invalid type: sequence, expected a string, number or boolean",
        ]
    );
    let file = file.unwrap();
    assert_eq!(file.thresholds.get("checks").map(Vec::len), Some(2));
}

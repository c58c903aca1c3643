//! The container image recipe and the Kubernetes manifests of a distributed
//! test (`Dockerfile`, `deploy/kubernetes/`): linted with checkov, validated
//! against the Kubernetes schemas with kubernetes-validate (both from PyPI,
//! installed by scripts/test.sh; missing, these tests fail), kept
//! consistent with each other, and the Job's command run for real as two
//! local "pods" whose printed summaries merge into one test.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use base64::Engine;
use serde_json::Value;
use stampede::util::civil_date::civil_from_days;

fn repo(path: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join(path)
}

/// Runs a Python tool the tests need; its absence fails the test loudly.
fn tool(name: &str, args: &[&str]) -> Output {
    Command::new(name)
        .args(args)
        .current_dir(repo(""))
        .output()
        .unwrap_or_else(|e| {
            panic!("{name} cannot run ({e}): ./scripts/test.sh installs it (pip install {name})")
        })
}

/// checkov's JSON report: (failed check ids, skipped check ids, passed count).
fn checkov(args: &[&str]) -> (Vec<String>, Vec<String>, u64) {
    let mut all = vec!["--skip-download", "-o", "json"];
    all.extend(args);
    let output = tool("checkov", &all);
    let report: Value = serde_json::from_slice(&output.stdout).unwrap_or_else(|e| {
        panic!(
            "checkov wrote no JSON ({e}): {}",
            String::from_utf8_lossy(&output.stderr)
        )
    });
    let ids = |kind: &str| -> Vec<String> {
        let mut ids: Vec<String> = report["results"][kind]
            .as_array()
            .map(|list| {
                list.iter()
                    .map(|c| c["check_id"].as_str().unwrap().to_string())
                    .collect()
            })
            .unwrap_or_default();
        ids.sort();
        ids
    };
    let passed = report["summary"]["passed"].as_u64().unwrap();
    (ids("failed_checks"), ids("skipped_checks"), passed)
}

#[test]
fn the_dockerfile_passes_checkov() {
    let (failed, skipped, passed) = checkov(&["-f", "Dockerfile", "--framework", "dockerfile"]);
    assert_eq!(failed, Vec::<String>::new());
    // A batch process has no health to probe; the reason is in the Dockerfile.
    assert_eq!(skipped, vec!["CKV_DOCKER_2"]);
    assert!(passed >= 10, "only {passed} checks ran");
    let text = std::fs::read_to_string(repo("Dockerfile")).unwrap();
    assert!(text.contains("USER 65532:65532"));
    assert!(text.contains("ENTRYPOINT [\"stampede\"]"));
    assert!(text.contains("docker build -t stampede:0.1.0 ."));
}

#[test]
fn the_manifests_pass_checkov() {
    let (failed, skipped, passed) =
        checkov(&["-d", "deploy/kubernetes", "--framework", "kubernetes"]);
    assert_eq!(failed, Vec::<String>::new());
    // Both skips carry their reason in the Job's annotations.
    assert_eq!(skipped, vec!["CKV_K8S_35", "CKV_K8S_43"]);
    assert!(passed >= 50, "only {passed} checks ran");
}

/// Every Kubernetes resource under deploy/kubernetes (kustomize's own files
/// and the scenario are not Kubernetes resources).
fn resource_files() -> Vec<PathBuf> {
    let mut files = Vec::new();
    for dir in [
        "deploy/kubernetes/base",
        "deploy/kubernetes/overlays/example",
    ] {
        for entry in std::fs::read_dir(repo(dir)).unwrap() {
            let path = entry.unwrap().path();
            let name = path.file_name().unwrap().to_str().unwrap().to_string();
            if name.ends_with(".yaml") && name != "kustomization.yaml" && name != "scenario.yaml" {
                files.push(path);
            }
        }
    }
    files.sort();
    files
}

#[test]
fn every_manifest_is_valid_against_the_kubernetes_schemas() {
    let files = resource_files();
    let names: Vec<String> = files
        .iter()
        .map(|p| p.file_name().unwrap().to_string_lossy().into_owned())
        .collect();
    assert_eq!(
        names,
        [
            "job.yaml",
            "namespace.yaml",
            "network-policy.yaml",
            "run-configmap.yaml",
            "scenario-configmap.yaml"
        ]
    );
    let mut args = vec!["--strict".to_string()];
    args.extend(files.iter().map(|p| p.display().to_string()));
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let output = tool("kubernetes-validate", &args);
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert_eq!(output.status.code(), Some(0), "{stdout}");
    assert_eq!(
        stdout.matches(" passed for resource ").count(),
        5,
        "{stdout}"
    );
}

fn yaml(path: &str) -> serde_json::Value {
    let text = std::fs::read_to_string(repo(path)).unwrap();
    serde_norway::from_str(&text).unwrap()
}

/// The overlay, its base and the Job agree: the files a kustomization names
/// exist, N is the same in the ConfigMap and in the Job's completions and
/// parallelism, the example scenario validates as a segment.
#[test]
fn the_overlay_and_the_base_agree() {
    for dir in [
        "deploy/kubernetes/base",
        "deploy/kubernetes/overlays/example",
    ] {
        let kustomization = yaml(&format!("{dir}/kustomization.yaml"));
        let mut named: Vec<String> = Vec::new();
        for entry in kustomization["resources"].as_array().unwrap() {
            named.push(entry.as_str().unwrap().to_string());
        }
        for generator in kustomization["configMapGenerator"]
            .as_array()
            .into_iter()
            .flatten()
        {
            for file in generator["files"].as_array().into_iter().flatten() {
                named.push(file.as_str().unwrap().to_string());
            }
        }
        for name in named {
            assert!(
                repo(dir).join(&name).exists(),
                "{dir}: {name} does not exist"
            );
        }
    }
    let job = yaml("deploy/kubernetes/base/job.yaml");
    let run = yaml("deploy/kubernetes/base/run-configmap.yaml");
    let n: u64 = run["data"]["instances"].as_str().unwrap().parse().unwrap();
    assert_eq!(job["spec"]["completions"], n);
    assert_eq!(job["spec"]["parallelism"], n);
    assert_eq!(job["spec"]["completionMode"], "Indexed");
    assert_eq!(job["spec"]["backoffLimit"], 0);

    let overlay = yaml("deploy/kubernetes/overlays/example/kustomization.yaml");
    let literals: Vec<&str> = overlay["configMapGenerator"][1]["literals"]
        .as_array()
        .unwrap()
        .iter()
        .map(|l| l.as_str().unwrap())
        .collect();
    let overlay_n: u64 = literals
        .iter()
        .find_map(|l| l.strip_prefix("instances="))
        .unwrap()
        .parse()
        .unwrap();
    let patch: Value =
        serde_norway::from_str(overlay["patches"][0]["patch"].as_str().unwrap()).unwrap();
    for op in patch.as_array().unwrap() {
        assert_eq!(op["value"], overlay_n, "{op}");
    }
    // Both scenario files follow the scenario schema editors check against.
    let schema: Value = serde_json::from_str(
        &std::fs::read_to_string(repo("schemas/scenario.schema.json")).unwrap(),
    )
    .unwrap();
    let validator = jsonschema::validator_for(&schema).unwrap();
    let embedded = yaml("deploy/kubernetes/base/scenario-configmap.yaml");
    let embedded: Value =
        serde_norway::from_str(embedded["data"]["scenario.yaml"].as_str().unwrap()).unwrap();
    for doc in [
        yaml("deploy/kubernetes/overlays/example/scenario.yaml"),
        embedded,
    ] {
        let errors: Vec<String> = validator.iter_errors(&doc).map(|e| e.to_string()).collect();
        assert_eq!(errors, Vec::<String>::new());
    }
    let scenario = repo("deploy/kubernetes/overlays/example/scenario.yaml");
    let output = Command::new(env!("CARGO_BIN_EXE_stampede"))
        .args(["validate", scenario.to_str().unwrap(), "--segment"])
        .arg(format!("{overlay_n}/{overlay_n}"))
        .output()
        .unwrap();
    assert_eq!(
        String::from_utf8_lossy(&output.stdout),
        format!(
            "✓ {} is valid: 1 scenario (checkout), 4 thresholds\n",
            scenario.display()
        )
    );
}

/// A remote-write endpoint that accepts everything (204), so the pods'
/// `--out prometheus-rw` delivers without a Prometheus.
fn accepting_endpoint() -> String {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    std::thread::spawn(move || {
        for stream in listener.incoming().flatten() {
            std::thread::spawn(move || answer_204(stream));
        }
    });
    format!("http://{addr}/api/v1/write")
}

fn answer_204(stream: TcpStream) {
    let _ = stream.set_read_timeout(Some(Duration::from_secs(30)));
    let mut reader = BufReader::new(stream.try_clone().unwrap());
    let mut stream = stream;
    loop {
        let mut length = 0usize;
        let mut line = String::new();
        loop {
            line.clear();
            if reader.read_line(&mut line).unwrap_or(0) == 0 {
                return;
            }
            if line == "\r\n" {
                break;
            }
            if let Some((name, value)) = line.split_once(':')
                && name.eq_ignore_ascii_case("content-length")
            {
                length = value.trim().parse().unwrap_or(0);
            }
        }
        let mut body = vec![0; length];
        if reader.read_exact(&mut body).is_err()
            || stream
                .write_all(b"HTTP/1.1 204 No Content\r\ncontent-length: 0\r\n\r\n")
                .is_err()
        {
            return;
        }
    }
}

fn wait_bounded(mut child: Child, limit: Duration) -> Output {
    let deadline = Instant::now() + limit;
    while Instant::now() < deadline {
        if child.try_wait().unwrap().is_some() {
            return child.wait_with_output().unwrap();
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    let _ = child.kill();
    panic!("did not finish within {limit:?}");
}

fn rfc3339(secs: u64) -> String {
    let (y, m, d) = civil_from_days((secs / 86_400) as i64);
    let rest = secs % 86_400;
    format!(
        "{y:04}-{m:02}-{d:02}T{:02}:{:02}:{:02}Z",
        rest / 3600,
        rest % 3600 / 60,
        rest % 60
    )
}

const POD_SCENARIO: &str = r#"
thresholds:
  http_reqs: ["count>=30"]
scenarios:
  shared:
    executor: shared-iterations
    vus: 4
    iterations: 40
    flow:
      - request: { name: health, url: "{{ BASE_URL }}/health" }
"#;

/// The Job's container command, with its two paths moved into a temp dir,
/// run by sh as two pods of an Indexed Job would run it (JOB_COMPLETION_INDEX
/// 0 and 1, the ConfigMap's values in the environment) against a demo
/// target; what they print merges into the whole test.
#[test]
fn the_jobs_command_runs_segments_whose_printed_summaries_merge() {
    let job = yaml("deploy/kubernetes/base/job.yaml");
    let container = &job["spec"]["template"]["spec"]["containers"][0];
    assert_eq!(container["command"], serde_json::json!(["/bin/sh", "-c"]));
    let dir = tempfile::tempdir().unwrap();
    let script = container["args"][0]
        .as_str()
        .unwrap()
        .replace("/scenario/", &format!("{}/", dir.path().display()))
        .replace("/tmp/summary.json", "\"$SUMMARY_FILE\"");
    std::fs::write(dir.path().join("scenario.yaml"), POD_SCENARIO).unwrap();

    let demo_port = TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let demo = Command::new(env!("CARGO_BIN_EXE_stampede"))
        .args(["demo", "--listen", &format!("127.0.0.1:{demo_port}")])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let demo = KillOnDrop(demo);
    let remote_write = accepting_endpoint();
    let bin_dir = Path::new(env!("CARGO_BIN_EXE_stampede")).parent().unwrap();
    let path = format!("{}:{}", bin_dir.display(), std::env::var("PATH").unwrap());
    let start_at = rfc3339(
        SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .unwrap()
            .as_secs()
            + 2,
    );
    std::thread::sleep(Duration::from_millis(300));

    let pods: Vec<Child> = (0..2)
        .map(|index| {
            Command::new("/bin/sh")
                .arg("-c")
                .arg(&script)
                .env("PATH", &path)
                .env("JOB_COMPLETION_INDEX", index.to_string())
                .env("STAMPEDE_INSTANCES", "2")
                .env("STAMPEDE_START_AT", &start_at)
                .env("STAMPEDE_TESTID", "pods-1")
                .env("POD_NAME", format!("stampede-{index}-abcde"))
                .env("STAMPEDE_PROMETHEUS_RW_URL", &remote_write)
                .env("STAMPEDE_LOG", "warn")
                .env("BASE_URL", format!("http://127.0.0.1:{demo_port}"))
                .env("SUMMARY_FILE", dir.path().join(format!("pod-{index}.json")))
                .stdout(Stdio::piped())
                .stderr(Stdio::piped())
                .spawn()
                .unwrap()
        })
        .collect();
    let mut summaries = Vec::new();
    for (index, pod) in pods.into_iter().enumerate() {
        let output = wait_bounded(pod, Duration::from_secs(60));
        let stdout = String::from_utf8_lossy(&output.stdout);
        // 20 requests each: count>=30 fails per pod (99), which the Job
        // turns into a completed pod: the verdict is the merge's.
        assert_eq!(
            output.status.code(),
            Some(0),
            "{stdout}{}",
            String::from_utf8_lossy(&output.stderr)
        );
        let line = stdout
            .lines()
            .find_map(|l| l.strip_prefix("STAMPEDE-SUMMARY "))
            .expect("the pod prints its summary");
        let bytes = base64::engine::general_purpose::STANDARD
            .decode(line)
            .unwrap();
        let doc: Value = serde_json::from_slice(&bytes).unwrap();
        assert_eq!(doc["run"]["segment"], format!("{}/2", index + 1));
        assert_eq!(doc["run"]["instance"], format!("stampede-{index}-abcde"));
        assert_eq!(doc["run"]["testid"], "pods-1");
        assert_eq!(doc["run"]["start_at"], start_at.as_str());
        assert_eq!(doc["metrics"]["http_reqs"]["count"], 20);
        assert_eq!(
            doc["outputs"][0]["points"]["dropped"], 0,
            "{}",
            doc["outputs"]
        );
        let file = dir.path().join(format!("from-log-{index}.json"));
        std::fs::write(&file, bytes).unwrap();
        summaries.push(file);
    }
    drop(demo);

    let merged = Command::new(env!("CARGO_BIN_EXE_stampede"))
        .arg("merge")
        .args(&summaries)
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&merged.stdout);
    assert_eq!(merged.status.code(), Some(0), "{stdout}");
    assert!(stdout.contains("✓ 'count>=30' count=40"), "{stdout}");
}

struct KillOnDrop(Child);

impl Drop for KillOnDrop {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

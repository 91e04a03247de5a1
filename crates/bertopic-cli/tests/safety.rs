//! Regression tests for output safety and input validation (issue: "never lose a user's file").
//! Each test runs the real binary in a temporary folder on the shared 200-paper sample with its
//! precomputed embeddings, so no model is needed.

use std::fs;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

mod common;
use common::{bertopic, ok, sample_embeddings, shared};

struct Fixture {
    dir: tempfile::TempDir,
    corpus: PathBuf,
    npy: PathBuf,
}

impl Fixture {
    fn new() -> Fixture {
        let dir = tempfile::tempdir().expect("tempdir");
        let corpus = dir.path().join("papers.csv");
        fs::copy(shared().join("data/arxiv-cs-abstracts-200.csv"), &corpus).expect("copy corpus");
        let npy = dir.path().join("papers.npy");
        sample_embeddings(&npy);
        Fixture { dir, corpus, npy }
    }

    fn path(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }

    /// `train` arguments into `out`, plus `extra`.
    fn train_args<'a>(&'a self, out: &'a str, extra: &[&'a str]) -> Vec<&'a str> {
        let mut v = vec![
            "train",
            "-q",
            "--input",
            self.corpus.to_str().unwrap(),
            "--embeddings",
            self.npy.to_str().unwrap(),
            "--output",
            out,
            "--min-cluster-size",
            "5",
            "--no-cache",
        ];
        v.extend_from_slice(extra);
        v
    }

    fn train(&self, out: &Path) -> Output {
        bertopic(&self.train_args(out.to_str().unwrap(), &[]))
    }
}

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

fn entries(dir: &Path) -> Vec<String> {
    let mut v: Vec<String> = fs::read_dir(dir)
        .expect("read_dir")
        .map(|e| e.expect("entry").file_name().to_string_lossy().into_owned())
        .collect();
    v.sort();
    v
}

fn assert_refused(o: &Output, needle: &str) {
    assert!(!o.status.success(), "must fail");
    let e = stderr(o);
    assert!(e.contains(needle), "stderr lacks {needle:?}:\n{e}");
    assert!(!e.contains("panicked"), "panic:\n{e}");
}

#[test]
fn output_dot_with_user_files_is_refused_and_nothing_moves() {
    let f = Fixture::new();
    let work = f.path("work");
    fs::create_dir_all(work.join(".git/objects")).unwrap();
    fs::write(work.join(".git/HEAD"), "ref: refs/heads/main\n").unwrap();
    fs::write(work.join("notes.txt"), "mine").unwrap();
    let before = entries(&work);
    let o = Command::new(env!("CARGO_BIN_EXE_bertopic"))
        .current_dir(&work)
        .args(f.train_args(".", &[]))
        .output()
        .unwrap();
    assert_refused(&o, "holds files bertopic did not write");
    assert!(stderr(&o).contains("--allow-other-files"), "{}", stderr(&o));
    assert_eq!(entries(&work), before);
    assert_eq!(
        entries(f.dir.path()).len(),
        3,
        "no hidden entries beside the folder"
    );
    assert_eq!(fs::read_to_string(work.join("notes.txt")).unwrap(), "mine");

    // Allowed explicitly: the model goes beside the user's files, which stay.
    let o = Command::new(env!("CARGO_BIN_EXE_bertopic"))
        .current_dir(&work)
        .args(f.train_args(".", &["--allow-other-files"]))
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", stderr(&o));
    let after = entries(&work);
    for name in [".git", "notes.txt", "model.json", "topic_info.csv"] {
        assert!(after.contains(&name.to_string()), "{after:?}");
    }
    assert_eq!(
        fs::read_to_string(work.join(".git/HEAD")).unwrap(),
        "ref: refs/heads/main\n"
    );
}

#[test]
fn concurrent_trains_never_delete_user_files() {
    let f = Fixture::new();
    let so = f.path("so");
    fs::create_dir(&so).unwrap();
    fs::write(so.join("notes1.txt"), "x").unwrap();
    let spawn = |out: &Path, seed: usize| {
        let out = out.to_str().unwrap().to_string();
        let seed = seed.to_string();
        let args: Vec<String> = f
            .train_args(&out, &["--seed", &seed])
            .into_iter()
            .map(String::from)
            .collect();
        Command::new(env!("CARGO_BIN_EXE_bertopic"))
            .args(&args)
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap()
    };
    let kids: Vec<_> = (1..=6).map(|i| spawn(&so, i)).collect();
    for k in kids {
        let o = k.wait_with_output().unwrap();
        assert!(!o.status.success());
        assert!(!stderr(&o).contains("panicked"));
    }
    assert_eq!(entries(&so), vec!["notes1.txt"]);

    // Into a folder of their own: each run either wins or is told the output is busy, and the
    // result is one whole model with nothing left behind.
    let fresh = f.path("fresh");
    let kids: Vec<_> = (1..=6).map(|i| spawn(&fresh, i)).collect();
    let mut wins = 0;
    for k in kids {
        let o = k.wait_with_output().unwrap();
        if o.status.success() {
            wins += 1;
        } else {
            assert!(
                stderr(&o).contains("being written by another bertopic process"),
                "{}",
                stderr(&o)
            );
        }
    }
    assert!(wins >= 1);
    ok(&[
        "topics",
        "--model",
        fresh.to_str().unwrap(),
        "--format",
        "json",
    ]);
    let hidden: Vec<String> = entries(f.dir.path())
        .into_iter()
        .filter(|e| e.starts_with('.'))
        .collect();
    assert!(hidden.is_empty(), "left behind: {hidden:?}");
}

#[cfg(unix)]
#[test]
fn symlinks_fifos_devices_and_inputs_are_not_overwritten() {
    let f = Fixture::new();
    // A symlinked output folder is refused, the target untouched.
    let real = f.path("realdir");
    fs::create_dir(&real).unwrap();
    fs::write(real.join("notes.txt"), "mine").unwrap();
    let link = f.path("linkdir");
    std::os::unix::fs::symlink(&real, &link).unwrap();
    assert_refused(&f.train(&link), "symbolic link");
    assert!(fs::symlink_metadata(&link)
        .unwrap()
        .file_type()
        .is_symlink());
    assert_eq!(entries(&real), vec!["notes.txt"]);

    let model = f.path("model");
    assert!(f.train(&model).status.success());
    let m = model.to_str().unwrap();
    let corpus = f.corpus.to_str().unwrap();
    let npy = f.npy.to_str().unwrap();
    let original = fs::read(&f.corpus).unwrap();
    let predict = |out: &str| {
        bertopic(&[
            "predict",
            "-q",
            "--input",
            corpus,
            "--embeddings",
            npy,
            "--model",
            m,
            "--output",
            out,
        ])
    };
    assert_refused(&predict(corpus), "is the input");
    assert_eq!(fs::read(&f.corpus).unwrap(), original);
    assert_refused(&predict("/dev/null"), "a device");
    let fifo = f.path("fifo");
    assert!(Command::new("mkfifo")
        .arg(&fifo)
        .status()
        .unwrap()
        .success());
    assert_refused(&predict(fifo.to_str().unwrap()), "FIFO");
    let csv_link = f.path("out-link.csv");
    std::os::unix::fs::symlink(&f.corpus, &csv_link).unwrap();
    assert_refused(&predict(csv_link.to_str().unwrap()), "symbolic link");
    assert_eq!(fs::read(&f.corpus).unwrap(), original);
    let o = bertopic(&["embed", "-q", "--input", corpus, "--output", corpus]);
    assert_refused(&o, "is the input");
    assert_eq!(fs::read(&f.corpus).unwrap(), original);
}

#[test]
fn retrain_replaces_the_folder_whole_and_cleans_stale_temps() {
    let f = Fixture::new();
    let model = f.path("model");
    assert!(f.train(&model).status.success());
    // Left by a killed run (a pid that does not exist): removed by the next write.
    let stale = f.path(&format!(".model.bertopic-tmp-{}-0", 0x7fff_fff0u32));
    fs::create_dir(&stale).unwrap();
    fs::write(stale.join("model.json"), "{}").unwrap();
    let o = bertopic(&f.train_args(model.to_str().unwrap(), &["--trials", "2"]));
    assert!(o.status.success(), "{}", stderr(&o));
    assert!(!stale.exists());
    let files = entries(&model);
    assert!(files.contains(&"experiment.json".to_string()), "{files:?}");
    // A plain retrain drops the tuning files of the previous run: no stale reports.
    assert!(f.train(&model).status.success());
    assert_eq!(
        entries(&model),
        vec![
            "document_topics.csv",
            "model.json",
            "model.safetensors",
            "topic_info.csv"
        ]
    );
    assert_eq!(
        entries(f.dir.path()),
        vec!["model", "papers.csv", "papers.npy"]
    );
}

#[cfg(unix)]
#[test]
fn read_only_folder_is_not_replaced() {
    use std::os::unix::fs::PermissionsExt;
    let f = Fixture::new();
    let ro = f.path("ro");
    fs::create_dir(&ro).unwrap();
    fs::set_permissions(&ro, fs::Permissions::from_mode(0o555)).unwrap();
    // Root ignores permission bits: run as an unprivileged user where we are root.
    let is_root = Command::new("id")
        .arg("-u")
        .output()
        .map(|o| String::from_utf8_lossy(&o.stdout).trim() == "0")
        .unwrap_or(false);
    let args = f.train_args(ro.to_str().unwrap(), &[]);
    let o = if is_root {
        let has_nobody = Command::new("id")
            .arg("nobody")
            .output()
            .is_ok_and(|o| o.status.success());
        if !has_nobody {
            eprintln!("skipped: running as root and no `nobody` user to drop to");
            return;
        }
        fs::set_permissions(f.dir.path(), fs::Permissions::from_mode(0o777)).unwrap();
        for p in [&f.corpus, &f.npy] {
            fs::set_permissions(p, fs::Permissions::from_mode(0o644)).unwrap();
        }
        Command::new("setpriv")
            .args(["--reuid=nobody", "--regid=nogroup", "--clear-groups", "--"])
            .arg(env!("CARGO_BIN_EXE_bertopic"))
            .args(&args)
            .output()
            .unwrap()
    } else {
        Command::new(env!("CARGO_BIN_EXE_bertopic"))
            .args(&args)
            .output()
            .unwrap()
    };
    assert_refused(&o, "ermission denied");
    let m = fs::metadata(&ro).unwrap();
    assert!(m.is_dir());
    assert_eq!(m.permissions().mode() & 0o777, 0o555);
    assert!(entries(&ro).is_empty());
}

#[cfg(unix)]
#[test]
fn closed_or_full_stdout_does_not_panic() {
    let f = Fixture::new();
    let model = f.path("model");
    assert!(f.train(&model).status.success());
    // Reader gone before anything is written: a quiet, successful end, like `| head`.
    let mut child = Command::new(env!("CARGO_BIN_EXE_bertopic"))
        .args(["topics", "--model", model.to_str().unwrap()])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    drop(child.stdout.take());
    let o = child.wait_with_output().unwrap();
    assert!(o.status.success(), "{}", stderr(&o));
    assert!(stderr(&o).is_empty(), "{}", stderr(&o));
    // A full device is an error with a message, not a panic.
    let full = fs::OpenOptions::new()
        .write(true)
        .open("/dev/full")
        .unwrap();
    let o = Command::new(env!("CARGO_BIN_EXE_bertopic"))
        .args(["topics", "--model", model.to_str().unwrap()])
        .stdout(full)
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(1));
    assert!(
        stderr(&o).contains("cannot write to standard output"),
        "{}",
        stderr(&o)
    );
}

#[test]
fn absurd_numbers_are_refused() {
    let f = Fixture::new();
    let out = f.path("m");
    let o = bertopic(&f.train_args(
        out.to_str().unwrap(),
        &["--n-neighbors", "18446744073709551615"],
    ));
    assert_refused(&o, "n_neighbors must be between 2 and 100000");
    for v in ["NaN", "inf", "-inf"] {
        let penalty = format!("--outlier-penalty={v}");
        let o = bertopic(&f.train_args(out.to_str().unwrap(), &["--trials", "2", &penalty]));
        assert_refused(&o, "not a finite number");
        let diversity = format!("--diversity={v}");
        let o = bertopic(&f.train_args(
            out.to_str().unwrap(),
            &["--representation", "mmr", &diversity],
        ));
        assert_refused(&o, "not a finite number");
    }
    assert!(!out.exists());
}

#[test]
fn edited_model_and_degenerate_embeddings_are_refused() {
    let f = Fixture::new();
    let model = f.path("model");
    assert!(f.train(&model).status.success());
    let path = model.join("model.json");
    let mut json: serde_json::Value = serde_json::from_slice(&fs::read(&path).unwrap()).unwrap();
    json["cluster_to_topic"][0][1] = serde_json::json!(5000);
    fs::write(&path, serde_json::to_vec(&json).unwrap()).unwrap();
    let o = bertopic(&["topics", "--model", model.to_str().unwrap()]);
    assert_refused(&o, "topic 5000, which does not exist");

    // A zero row among the embeddings is named by its record number.
    let mut m = bertopic::embed::read_npy(&f.npy).unwrap();
    m.row_mut(6).fill(0.0);
    let zero = f.path("zero.npy");
    bertopic::embed::write_npy(&zero, &m).unwrap();
    let mut args = f.train_args("unused", &[]);
    let z = zero.to_str().unwrap();
    let i = args.iter().position(|a| *a == "--embeddings").unwrap();
    args[i + 1] = z;
    let out = f.path("zm");
    let j = args.iter().position(|a| *a == "--output").unwrap();
    args[j + 1] = out.to_str().unwrap();
    let o = bertopic(&args);
    assert_refused(&o, "records 7");
    assert!(!out.exists());
}

#[test]
fn damaged_registry_version_leaves_the_others_usable() {
    let f = Fixture::new();
    let model = f.path("model");
    assert!(f.train(&model).status.success());
    let reg = f.path("registry");
    let r = reg.to_str().unwrap();
    let m = model.to_str().unwrap();
    for _ in 0..2 {
        ok(&[
            "registry",
            "register",
            "papers",
            "--model",
            m,
            "--registry",
            r,
            "-q",
        ]);
    }
    fs::write(reg.join("papers/1/registry.json"), "{ broken").unwrap();
    let o = bertopic(&["registry", "list", "--registry", r]);
    assert!(o.status.success(), "{}", stderr(&o));
    assert!(String::from_utf8_lossy(&o.stdout).contains("papers"));
    assert!(
        stderr(&o).contains("version 1 is damaged"),
        "{}",
        stderr(&o)
    );
    ok(&[
        "topics",
        "--model",
        "models:/papers/latest",
        "--registry",
        r,
    ]);
    ok(&["topics", "--model", "models:/papers/2", "--registry", r]);
    let o = bertopic(&["topics", "--model", "models:/papers/1", "--registry", r]);
    assert_refused(&o, "registry.json");
}

#[test]
fn standard_input_and_output() {
    use std::io::Write;
    let f = Fixture::new();
    let model = f.path("model");
    assert!(f.train(&model).status.success());
    let mut child = Command::new(env!("CARGO_BIN_EXE_bertopic"))
        .args([
            "predict",
            "-q",
            "--input",
            "-",
            "--input-format",
            "csv",
            "--embeddings",
            f.npy.to_str().unwrap(),
            "--model",
            model.to_str().unwrap(),
            "--output",
            "-",
        ])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    child
        .stdin
        .take()
        .unwrap()
        .write_all(&fs::read(&f.corpus).unwrap())
        .unwrap();
    let o = child.wait_with_output().unwrap();
    assert!(o.status.success(), "{}", stderr(&o));
    let from_stdin = String::from_utf8_lossy(&o.stdout).into_owned();
    let from_file = ok(&[
        "predict",
        "-q",
        "--input",
        f.corpus.to_str().unwrap(),
        "--embeddings",
        f.npy.to_str().unwrap(),
        "--model",
        model.to_str().unwrap(),
    ]);
    assert_eq!(from_stdin, from_file);
    assert_eq!(from_stdin.lines().count(), 201);
}

#[test]
fn inputs_are_named_and_checked_before_the_expensive_work() {
    let f = Fixture::new();
    let out = f.path("m");
    let o_str = out.to_str().unwrap();
    // An empty file says so; a folder says it is a folder.
    let empty = f.path("empty.csv");
    fs::write(&empty, "").unwrap();
    let o = bertopic(&[
        "train",
        "-q",
        "--input",
        empty.to_str().unwrap(),
        "--output",
        o_str,
    ]);
    assert_refused(&o, "is empty");
    let o = bertopic(&[
        "train",
        "-q",
        "--input",
        f.dir.path().to_str().unwrap(),
        "--output",
        o_str,
    ]);
    assert_refused(&o, "is a folder");
    // Seven usable documents: refused before the embedding model is even loaded.
    let small = f.path("small.csv");
    let text: String = std::iter::once("Title,Abstract\n".to_string())
        .chain((0..7).map(|i| format!("Paper {i},An abstract about subject {i}\n")))
        .collect();
    fs::write(&small, text).unwrap();
    let t = std::time::Instant::now();
    let o = bertopic(&[
        "train",
        "-q",
        "--input",
        small.to_str().unwrap(),
        "--output",
        o_str,
    ]);
    assert_refused(&o, "7 usable documents");
    assert!(!stderr(&o).contains("embedding"), "{}", stderr(&o));
    assert!(t.elapsed().as_secs() < 20, "checked before embedding");
    // An unused, unparsable Date column does not stop training.
    let dated = f.path("dated.csv");
    let mut csv = fs::read_to_string(&f.corpus).unwrap();
    csv = csv.replacen("2025-", "someday-", 1);
    fs::write(&dated, csv).unwrap();
    let o = bertopic(
        &f.train_args(o_str, &[])
            .into_iter()
            .map(|a| {
                if a == f.corpus.to_str().unwrap() {
                    dated.to_str().unwrap()
                } else {
                    a
                }
            })
            .collect::<Vec<_>>(),
    );
    assert!(o.status.success(), "{}", stderr(&o));
    assert!(!f.path("none").exists());
}

#[cfg(unix)]
#[test]
fn written_files_follow_the_umask() {
    use std::os::unix::fs::PermissionsExt;
    let f = Fixture::new();
    let out = f.path("m");
    assert!(f.train(&out).status.success());
    // The binary inherits this process's umask; `sh` reports the same one.
    let umask = Command::new("sh").args(["-c", "umask"]).output().unwrap();
    let umask = u32::from_str_radix(String::from_utf8_lossy(&umask.stdout).trim(), 8).unwrap();
    for name in ["model.json", "topic_info.csv"] {
        let mode = fs::metadata(out.join(name)).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode, 0o666 & !umask, "{name}: {mode:o}");
    }
}

/// A one-thread OpenAI-compatible endpoint on 127.0.0.1: answers every chat completion with
/// "Label <n>" and records the Authorization headers it saw. Serves `max` requests, then stops.
fn fake_llm(max: usize) -> (String, std::thread::JoinHandle<Vec<String>>) {
    use std::io::{BufRead, BufReader, Read, Write};
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!(
        "http://{}/v1/chat/completions",
        listener.local_addr().unwrap()
    );
    let handle = std::thread::spawn(move || {
        let mut auth = Vec::new();
        for n in 0..max {
            let Ok((stream, _)) = listener.accept() else {
                break;
            };
            let mut r = BufReader::new(stream.try_clone().unwrap());
            let mut len = 0;
            loop {
                let mut line = String::new();
                if r.read_line(&mut line).unwrap_or(0) == 0 || line == "\r\n" {
                    break;
                }
                let lower = line.to_ascii_lowercase();
                if let Some(v) = lower.strip_prefix("content-length:") {
                    len = v.trim().parse().unwrap_or(0);
                }
                if lower.starts_with("authorization:") {
                    auth.push(line.trim().to_string());
                }
            }
            let mut body = vec![0; len];
            let _ = r.read_exact(&mut body);
            let reply = format!(
                r#"{{"choices":[{{"message":{{"role":"assistant","content":"Label {n}"}}}}]}}"#
            );
            let mut w = stream;
            let _ = write!(
                w,
                "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{reply}",
                reply.len()
            );
        }
        auth
    });
    (url, handle)
}

#[test]
fn llm_labels_use_the_key_from_the_environment_and_never_store_it() {
    let f = Fixture::new();
    let out = f.path("m");
    let model_topics = {
        assert!(f.train(&out).status.success());
        let json: serde_json::Value =
            serde_json::from_slice(&fs::read(out.join("model.json")).unwrap()).unwrap();
        json["topics"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|t| t["id"].as_i64() >= Some(0))
            .count()
    };
    let (url, server) = fake_llm(model_topics);
    let secret = "sk-test-never-on-disk-1234";
    let args = f.train_args(
        out.to_str().unwrap(),
        &["--labels", "llm", "--llm-url", &url],
    );
    let o = Command::new(env!("CARGO_BIN_EXE_bertopic"))
        .args(&args)
        .env("GROQ_API_KEY", secret)
        .env_remove("OPENAI_API_KEY")
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", stderr(&o));
    let auth = server.join().unwrap();
    assert_eq!(auth.len(), model_topics);
    assert!(auth.iter().all(|a| a.ends_with(secret)), "{auth:?}");
    let json: serde_json::Value =
        serde_json::from_slice(&fs::read(out.join("model.json")).unwrap()).unwrap();
    let labels: Vec<&str> = json["topics"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|t| t["id"].as_i64() >= Some(0))
        .map(|t| t["label"].as_str().unwrap_or(""))
        .collect();
    assert!(labels.iter().all(|l| l.starts_with("Label ")), "{labels:?}");
    assert!(!stderr(&o).contains(secret) && !String::from_utf8_lossy(&o.stdout).contains(secret));
    for name in entries(&out) {
        let bytes = fs::read(out.join(&name)).unwrap();
        assert!(
            !bytes.windows(secret.len()).any(|w| w == secret.as_bytes()),
            "{name} holds the key"
        );
    }
}

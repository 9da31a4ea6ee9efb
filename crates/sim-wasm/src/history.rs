//! "Open a history": a Jepsen history (EDN, `jepsen.util` log lines or JSON lines) checked for
//! linearizability by `underhood-lincheck`, returned with its operations and per-process lanes
//! for the page to draw. The check is bounded by a number of search steps, never by a clock,
//! so the same history and budget give the same answer everywhere.

use serde_json::json;
use underhood_lincheck::{
    Budget, Format, History, ModelKind, Options, Partitioning, Settings, Value, Verdict,
    check_history, minimal_failing, parse_value,
};
use wasm_bindgen::prelude::*;

use crate::Error;

/// The step budget [`check_history_json`] allows at most per partition: enough for the
/// histories a person pastes, small enough that the memo stays within a browser's memory.
pub const MAX_HISTORY_STEPS: u64 = 50_000_000;

/// Checks a history given as text; returns JSON
/// `{verdict: "linearizable"|"not-linearizable"|"unknown", exhausted: "steps"|null, model,
/// events, partitions, operations: [Operation], lanes: [{process, operations}],
/// witness: HistoryWitness|null, minimal: [index]|null}` (see `docs/sim-wasm-api.md`), where
/// `minimal` names the operations that break linearizability together
/// (`underhood_lincheck::minimal_failing`).
///
/// `model` is `register`, `cas-register` or `kv`; `initial` an EDN value for the registers
/// (empty: `nil`); `format` `auto`, `edn`, `jepsen-log` or `jsonl`; `partition` checks each key
/// alone; `max_steps` (1 to [`MAX_HISTORY_STEPS`]) bounds each partition's search, after which
/// the verdict is `unknown`. Bad input is an error naming its line and column.
///
/// ```
/// use underhood_sim_wasm::check_history_json;
///
/// let text = "{:process 0 :type :invoke :f :write :value 1}
///             {:process 0 :type :ok :f :write :value 1}
///             {:process 1 :type :invoke :f :read :value nil}
///             {:process 1 :type :ok :f :read :value nil}";
/// let report = check_history_json(text, "register", "", "auto", true, 1e6)?;
/// let report: serde_json::Value = serde_json::from_str(&report)?;
/// assert_eq!(report["verdict"], "not-linearizable");
/// assert_eq!(report["witness"]["op"]["index"], 1);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[wasm_bindgen(js_name = checkHistory)]
pub fn check_history_json(
    text: &str,
    model: &str,
    initial: &str,
    format: &str,
    partition: bool,
    max_steps: f64,
) -> Result<String, Error> {
    let initial = match initial.trim() {
        "" => Value::Nil,
        text => parse_value(text).map_err(|e| {
            Error(format!(
                "the initial value {text:?} is not an EDN value: {e}"
            ))
        })?,
    };
    let model = match model {
        "register" => ModelKind::Register { initial },
        "cas-register" => ModelKind::CasRegister { initial },
        "kv" if initial != Value::Nil => {
            return Err(Error(
                "an initial value applies to register and cas-register; kv keys start empty".into(),
            ));
        }
        "kv" => ModelKind::Kv,
        other => {
            return Err(Error(format!(
                "unknown model {other:?}: expected register, cas-register or kv"
            )));
        }
    };
    let format = match format {
        "auto" => Format::Auto,
        "edn" => Format::Edn,
        "jepsen-log" => Format::JepsenLog,
        "jsonl" => Format::JsonLines,
        other => {
            return Err(Error(format!(
                "unknown format {other:?}: expected auto, edn, jepsen-log or jsonl"
            )));
        }
    };
    if !(max_steps >= 1.0 && max_steps <= MAX_HISTORY_STEPS as f64) {
        return Err(Error(format!(
            "the step budget must be between 1 and {MAX_HISTORY_STEPS}, got {max_steps}"
        )));
    }
    let history = History::parse(text.as_bytes(), format).map_err(|e| Error(e.to_string()))?;
    let settings = Settings {
        model,
        partitioning: if partition {
            Partitioning::ByKey
        } else {
            Partitioning::Whole
        },
        options: Options {
            budget: Budget {
                deadline: None,
                max_steps: Some(max_steps as u64),
            },
            ..Options::default()
        },
    };
    let report = check_history(&history, &settings).map_err(|e| Error(e.to_string()))?;
    let (verdict, exhausted, witness) = match &report.verdict {
        Verdict::Linearizable => ("linearizable", None, None),
        Verdict::NotLinearizable(w) => ("not-linearizable", None, Some(w)),
        Verdict::Unknown(why) => ("unknown", Some(why), None),
    };
    // The operations that break it together, each candidate within the same step budget.
    let minimal = match witness {
        Some(w) => Some(minimal_failing(&history, &settings, w).map_err(|e| Error(e.to_string()))?),
        None => None,
    };
    Ok(json!({
        "verdict": verdict,
        "exhausted": exhausted,
        "model": settings.model.name(),
        "events": history.events(),
        "partitions": report.partitions,
        "operations": history.operations(),
        "lanes": history.lanes(),
        "witness": witness,
        "minimal": minimal,
    })
    .to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn check(text: &str, model: &str, max_steps: f64) -> serde_json::Value {
        let report = check_history_json(text, model, "", "auto", true, max_steps).unwrap();
        serde_json::from_str(&report).unwrap()
    }

    #[test]
    fn a_linearizable_history_draws_every_operation_on_its_lane() {
        let report = check(
            "INFO  jepsen.util - 0\t:invoke\t:write\t1
INFO  jepsen.util - 1\t:invoke\t:read\tnil
INFO  jepsen.util - 0\t:ok\t:write\t1
INFO  jepsen.util - 1\t:ok\t:read\t1
INFO  jepsen.util - 0\t:invoke\t:cas\t[1 2]
INFO  jepsen.util - 0\t:info\t:cas\t[1 2]\t:timed-out",
            "cas-register",
            1e6,
        );
        assert_eq!(report["verdict"], "linearizable");
        assert_eq!(report["witness"], serde_json::Value::Null);
        assert_eq!(report["minimal"], serde_json::Value::Null);
        assert_eq!(report["events"], 6);
        assert_eq!(report["operations"].as_array().unwrap().len(), 3);
        assert_eq!(report["operations"][2]["completion"]["type"], "info");
        assert_eq!(report["lanes"][0]["process"], 0);
        assert_eq!(report["lanes"][0]["operations"], json!([0, 2]));
        assert_eq!(report["lanes"][1]["operations"], json!([1]));
    }

    #[test]
    fn a_stale_read_is_the_witness() {
        let report = check(
            r#"[{:process 0 :type :invoke :f :write :value 1}
               {:process 0 :type :ok :f :write :value 1}
               {:process 1 :type :invoke :f :write :value 2}
               {:process 1 :type :ok :f :write :value 2}
               {:process 0 :type :invoke :f :read :value nil}
               {:process 0 :type :ok :f :read :value 1}]"#,
            "register",
            1e6,
        );
        assert_eq!(report["verdict"], "not-linearizable");
        let w = &report["witness"];
        assert_eq!(w["op"]["index"], 2);
        assert_eq!(w["previous_ok"]["index"], 1);
        assert_eq!(w["linearized"], json!([0, 1]));
        assert_eq!(w["prefix_events"], 5);
        assert_eq!(w["states"], json!([2]));
        // The write of 2 and the read of 1 break it; the write of 1 is the read's source.
        assert_eq!(report["minimal"], json!([0, 1, 2]));
    }

    #[test]
    fn the_step_budget_ends_a_long_search_as_unknown() {
        // Many concurrent writes and a final read of a value nobody wrote: the search tries
        // every order before it can say no.
        let mut text = String::new();
        for p in 0..14 {
            text.push_str(&format!(
                "{{:process {p} :type :invoke :f :write :value {p}}}\n"
            ));
        }
        text.push_str("{:process 99 :type :invoke :f :read :value nil}\n");
        for p in 0..14 {
            text.push_str(&format!(
                "{{:process {p} :type :ok :f :write :value {p}}}\n"
            ));
        }
        text.push_str("{:process 99 :type :ok :f :read :value 77}\n");
        let report = check(&text, "register", 5000.0);
        assert_eq!(report["verdict"], "unknown");
        assert_eq!(report["exhausted"], "steps");
        assert_eq!(check(&text, "register", 5e7)["verdict"], "not-linearizable");
    }

    #[test]
    fn bad_input_is_an_error_with_its_place() {
        let err = check_history_json("[{:process 0", "register", "", "edn", true, 1e6)
            .unwrap_err()
            .to_string();
        assert!(err.starts_with("line 1, column"), "{err}");
        let ok = "{:process 0 :type :invoke :f :read}";
        for (model, initial, format, steps) in [
            ("set", "", "auto", 1e6),
            ("kv", "1", "auto", 1e6),
            ("register", "[", "auto", 1e6),
            ("register", "", "csv", 1e6),
            ("register", "", "auto", 0.0),
            ("register", "", "auto", f64::NAN),
            ("register", "", "auto", 1e12),
        ] {
            assert!(
                check_history_json(ok, model, initial, format, true, steps).is_err(),
                "{model} {initial} {format} {steps}"
            );
        }
    }
}

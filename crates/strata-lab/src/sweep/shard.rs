//! Which shard a sweep runs: `--shard I/N`, or the array task of a scheduler
//! (Slurm, Kubernetes Indexed Jobs, AWS Batch) read from its environment;
//! runs and units belong to shards by their content hash.

/// Parses `I/N` (0 <= I < N).
pub fn parse_shard(s: &str) -> Result<(u64, u64), String> {
    let (i, n) = s
        .split_once('/')
        .ok_or_else(|| format!("--shard {s}: expected I/N, e.g. 0/4"))?;
    let i: u64 = i
        .trim()
        .parse()
        .map_err(|_| format!("--shard {s}: I is not a number"))?;
    let n: u64 = n
        .trim()
        .parse()
        .map_err(|_| format!("--shard {s}: N is not a number"))?;
    if n == 0 || i >= n {
        return Err(format!(
            "--shard {s}: need 0 <= I < N (shards are numbered from 0)"
        ));
    }
    Ok((i, n))
}

/// The shard a scheduler's array task stands for, read from its environment
/// (`get` looks a variable up), with a sentence saying where it came from:
/// Slurm job arrays (`SLURM_ARRAY_TASK_ID` less `SLURM_ARRAY_TASK_MIN`,
/// divided by `SLURM_ARRAY_TASK_STEP`, of `SLURM_ARRAY_TASK_COUNT`, so that
/// `--array=1-8` works as well as `0-7`), Kubernetes Indexed Jobs
/// (`JOB_COMPLETION_INDEX` of `STRATA_SHARDS`, since Kubernetes exposes no
/// count), AWS Batch array jobs (`AWS_BATCH_JOB_ARRAY_INDEX` of
/// `AWS_BATCH_JOB_ARRAY_SIZE`). `None` outside an array task; an error when
/// a scheduler's variables are incomplete or inconsistent.
pub fn shard_from_env(get: &dyn Fn(&str) -> Option<String>) -> Result<Option<((u64, u64), String)>, String> {
    let num = |name: &str| -> Result<Option<u64>, String> {
        match get(name) {
            None => Ok(None),
            Some(v) => v
                .trim()
                .parse::<u64>()
                .map(Some)
                .map_err(|_| format!("{name}={v}: not a whole number")),
        }
    };
    let check = |i: u64, n: u64, from: String| -> Result<Option<((u64, u64), String)>, String> {
        if n == 0 || i >= n {
            return Err(format!("{from}: shard {i} of {n} is out of range"));
        }
        Ok(Some(((i, n), format!("shard {i}/{n} from {from}"))))
    };
    if let Some(id) = num("SLURM_ARRAY_TASK_ID")? {
        let count = num("SLURM_ARRAY_TASK_COUNT")?.ok_or(
            "SLURM_ARRAY_TASK_ID is set but SLURM_ARRAY_TASK_COUNT is not: run inside a Slurm job array, or pass --shard I/N",
        )?;
        let min = num("SLURM_ARRAY_TASK_MIN")?.unwrap_or(0);
        let step = num("SLURM_ARRAY_TASK_STEP")?.unwrap_or(1).max(1);
        let from = format!(
            "Slurm (SLURM_ARRAY_TASK_ID={id}, SLURM_ARRAY_TASK_MIN={min}, SLURM_ARRAY_TASK_STEP={step}, SLURM_ARRAY_TASK_COUNT={count})"
        );
        if id < min || (id - min) % step != 0 {
            return Err(format!(
                "{from}: the task id is not on the array's range; use a plain range such as --array=0-{} or pass --shard I/N",
                count.saturating_sub(1)
            ));
        }
        return check((id - min) / step, count, from);
    }
    if let Some(i) = num("JOB_COMPLETION_INDEX")? {
        let n = num("STRATA_SHARDS")?.ok_or(
            "JOB_COMPLETION_INDEX is set (a Kubernetes Indexed Job) but STRATA_SHARDS is not: Kubernetes exposes no count, so set STRATA_SHARDS to the Job's completions",
        )?;
        return check(i, n, format!("Kubernetes (JOB_COMPLETION_INDEX={i}, STRATA_SHARDS={n})"));
    }
    if let Some(i) = num("AWS_BATCH_JOB_ARRAY_INDEX")? {
        let n = num("AWS_BATCH_JOB_ARRAY_SIZE")?.ok_or(
            "AWS_BATCH_JOB_ARRAY_INDEX is set but AWS_BATCH_JOB_ARRAY_SIZE is not: run as an AWS Batch array job, or pass --shard I/N",
        )?;
        return check(i, n, format!("AWS Batch (AWS_BATCH_JOB_ARRAY_INDEX={i}, AWS_BATCH_JOB_ARRAY_SIZE={n})"));
    }
    Ok(None)
}

/// Whether a run belongs to shard `i` of `n`.
pub fn in_shard(hash: &str, (i, n): (u64, u64)) -> bool {
    let v = u64::from_str_radix(&hash[..hash.len().min(15)], 16).unwrap_or(0);
    v % n == i
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shards_come_from_each_scheduler() {
        let env = |vars: &[(&str, &str)]| {
            let m: std::collections::HashMap<String, String> =
                vars.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect();
            shard_from_env(&move |k: &str| m.get(k).cloned())
        };
        assert_eq!(env(&[]), Ok(None));
        // Slurm: --array=0-7 and --array=1-8 give the same shards; steps count.
        let s = |id, min, count| {
            env(&[
                ("SLURM_ARRAY_TASK_ID", id),
                ("SLURM_ARRAY_TASK_MIN", min),
                ("SLURM_ARRAY_TASK_COUNT", count),
            ])
            .map(|o| o.map(|(s, _)| s))
        };
        assert_eq!(s("0", "0", "8"), Ok(Some((0, 8))));
        assert_eq!(s("8", "1", "8"), Ok(Some((7, 8))));
        assert_eq!(s("3", "1", "8"), Ok(Some((2, 8))));
        let stepped = env(&[
            ("SLURM_ARRAY_TASK_ID", "6"),
            ("SLURM_ARRAY_TASK_MIN", "0"),
            ("SLURM_ARRAY_TASK_STEP", "2"),
            ("SLURM_ARRAY_TASK_COUNT", "4"),
        ]);
        assert_eq!(stepped.clone().map(|o| o.map(|(s, _)| s)), Ok(Some((3, 4))));
        assert!(stepped.unwrap().unwrap().1.starts_with("shard 3/4 from Slurm (SLURM_ARRAY_TASK_ID=6"));
        assert!(s("9", "1", "8").unwrap_err().contains("out of range"));
        assert!(
            env(&[("SLURM_ARRAY_TASK_ID", "2")])
                .unwrap_err()
                .contains("SLURM_ARRAY_TASK_COUNT is not")
        );
        assert!(env(&[("SLURM_ARRAY_TASK_ID", "x"), ("SLURM_ARRAY_TASK_COUNT", "2")])
            .unwrap_err()
            .contains("SLURM_ARRAY_TASK_ID=x: not a whole number"));
        // Kubernetes: the count must be given.
        assert_eq!(
            env(&[("JOB_COMPLETION_INDEX", "2"), ("STRATA_SHARDS", "4")]).map(|o| o.map(|(s, _)| s)),
            Ok(Some((2, 4)))
        );
        assert!(
            env(&[("JOB_COMPLETION_INDEX", "2")])
                .unwrap_err()
                .contains("Kubernetes exposes no count, so set STRATA_SHARDS")
        );
        // AWS Batch.
        let aws = env(&[("AWS_BATCH_JOB_ARRAY_INDEX", "0"), ("AWS_BATCH_JOB_ARRAY_SIZE", "3")]).unwrap().unwrap();
        assert_eq!(aws.0, (0, 3));
        assert!(aws.1.starts_with("shard 0/3 from AWS Batch"));
        assert!(env(&[("AWS_BATCH_JOB_ARRAY_INDEX", "3"), ("AWS_BATCH_JOB_ARRAY_SIZE", "3")]).is_err());
    }

}

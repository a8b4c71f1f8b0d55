use std::collections::BTreeMap;
use std::path::Path;

use super::*;

fn env(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
    pairs
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect()
}

fn demo_text() -> String {
    std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("pipelines/demo.toml"))
        .unwrap()
}

fn parse_with(text: &str, vars: &[(&str, &str)]) -> Result<Spec> {
    let e = env(vars);
    parse(
        text,
        Path::new("p.toml"),
        &e,
        Path::new("/work/x"),
        &CredentialSource::from_env(&e),
    )
}

fn message(err: Error) -> String {
    err.to_string()
}

#[test]
fn interpolation_takes_variables_defaults_and_escapes() {
    let e = env(&[("A", "1"), ("EMPTY", "")]);
    assert_eq!(interpolate("x${A}y", &e).unwrap(), "x1y");
    assert_eq!(interpolate("${B:-dflt}", &e).unwrap(), "dflt");
    assert_eq!(interpolate("${EMPTY:-dflt}", &e).unwrap(), "dflt");
    assert_eq!(interpolate("$${A} costs $5", &e).unwrap(), "${A} costs $5");
    assert!(
        interpolate("${B}", &e)
            .unwrap_err()
            .contains("B is not set")
    );
    assert!(interpolate("${A", &e).unwrap_err().contains("unclosed"));
}

#[test]
fn demo_pipeline_needs_no_environment_and_talks_to_loopback() {
    let spec = parse_with(&demo_text(), &[]).unwrap();
    assert_eq!(spec.name, "demo");
    assert_eq!(
        spec.intacct.endpoint.as_str(),
        "http://127.0.0.1:8085/ia/xml/xmlgw.phtml"
    );
    assert_eq!(spec.intacct.sender_password.expose(), "sim-sender-password");
    assert_eq!(spec.intacct.time_zone, chrono_tz::America::Los_Angeles);
    assert_eq!(spec.intacct.max_concurrent_requests, 2);
    assert_eq!(spec.extract.objects.len(), KNOWN_OBJECTS.len());
    assert_eq!(spec.stage.url, "file:///work/x/.demo/stage/");
    assert_eq!(spec.snowflake.database, "INTACCT");
    let debug = format!("{spec:?}");
    assert!(
        !debug.contains("sim-sender-password"),
        "secret in Debug output"
    );
    assert!(
        !debug.contains("sim-user-password"),
        "secret in Debug output"
    );
}

#[test]
fn environment_overrides_every_connection_value() {
    let spec = parse_with(
        &demo_text(),
        &[
            (
                "INTACCT_ENDPOINT",
                "https://api.intacct.com/ia/xml/xmlgw.phtml",
            ),
            ("INTACCT_SENDER_PASSWORD", "s3"),
            ("INTACCT_USER_PASSWORD", "u3"),
            ("INTACCT_COMPANY_ID", "ACME"),
            ("STAGE_URL", "s3://bucket/prefix"),
            ("SNOWFLAKE_SCHEMA", "raw_intacct"),
            ("SNOWFLAKE_STORAGE_INTEGRATION", "intacct_s3"),
        ],
    )
    .unwrap();
    assert_eq!(spec.snowflake.stage_url, "s3://bucket/prefix/");
    assert_eq!(
        spec.snowflake.storage_integration.as_deref(),
        Some("INTACCT_S3")
    );
    assert_eq!(spec.intacct.endpoint.host_str(), Some("api.intacct.com"));
    assert_eq!(spec.intacct.sender_password.expose(), "s3");
    assert_eq!(spec.intacct.company_id, "ACME");
    assert_eq!(spec.stage.url, "s3://bucket/prefix");
    assert_eq!(spec.snowflake.schema, "RAW_INTACCT");
}

#[test]
fn plain_http_is_refused_for_remote_intacct_and_snowflake_urls() {
    let secrets = [
        ("INTACCT_SENDER_PASSWORD", "s3"),
        ("INTACCT_USER_PASSWORD", "u3"),
    ];
    let with = |extra: (&str, &str)| {
        let mut vars = secrets.to_vec();
        vars.push(extra);
        parse_with(&demo_text(), &vars)
    };
    for (var, value, key) in [
        (
            "INTACCT_ENDPOINT",
            "http://api.intacct.com/ia/xml/xmlgw.phtml",
            "intacct.endpoint",
        ),
        (
            "SNOWFLAKE_URL",
            "http://acme.snowflakecomputing.com",
            "snowflake.url",
        ),
        ("SNOWFLAKE_URL", "http://10.1.2.3:8086", "snowflake.url"),
    ] {
        let err = with((var, value)).unwrap_err();
        assert!(
            matches!(err, Error::Config { ref location, .. } if location.ends_with(key)),
            "{err:?}"
        );
        let m = message(err);
        assert!(m.contains("https://") && m.contains("loopback"), "{m}");
    }
    // In the file itself, not only through a variable.
    let text = demo_text().replace(
        "${SNOWFLAKE_URL:-http://127.0.0.1:8086}",
        "http://acme.snowflakecomputing.com",
    );
    let err = parse_with(&text, &secrets).unwrap_err();
    assert!(
        matches!(err, Error::Config { ref location, .. } if location.ends_with("snowflake.url")),
        "{err:?}"
    );
    // Loopback stays allowed for the stand-ins, and https anywhere.
    for (var, value) in [
        (
            "INTACCT_ENDPOINT",
            "http://localhost:8085/ia/xml/xmlgw.phtml",
        ),
        ("SNOWFLAKE_URL", "http://[::1]:8086"),
        ("SNOWFLAKE_URL", "http://127.0.0.2:8086"),
        (
            "INTACCT_ENDPOINT",
            "https://api.intacct.com/ia/xml/xmlgw.phtml",
        ),
    ] {
        with((var, value)).unwrap();
    }
}

#[test]
fn secret_defaults_are_refused_for_remote_endpoints() {
    let err = parse_with(
        &demo_text(),
        &[(
            "INTACCT_ENDPOINT",
            "https://api.intacct.com/ia/xml/xmlgw.phtml",
        )],
    )
    .unwrap_err();
    let m = message(err);
    assert!(m.contains("INTACCT_SENDER_PASSWORD"), "{m}");
    assert!(m.contains("loopback"), "{m}");
    assert!(!m.contains("sim-sender-password"), "{m}");
}

#[test]
fn literal_secrets_are_refused() {
    let text = demo_text().replace(
        "\"${INTACCT_USER_PASSWORD:-sim-user-password}\"",
        "\"hunter2\"",
    );
    let m = message(parse_with(&text, &[]).unwrap_err());
    assert!(m.contains("intacct.user_password"), "{m}");
    assert!(m.contains("never a literal"), "{m}");
    assert!(!m.contains("hunter2"), "{m}");
}

#[test]
fn unknown_keys_are_errors_that_name_the_key_and_line() {
    let text = demo_text().replace("page_size = 2000", "page_size = 2000\npagesize = 10");
    let m = message(parse_with(&text, &[]).unwrap_err());
    assert!(m.contains("pagesize"), "{m}");
    assert!(m.contains("line"), "{m}");
}

#[test]
fn entities_are_distinct_ids_and_exclude_location_id() {
    let with = |list: &str| {
        demo_text().replace(
            "page_size = 2000",
            &format!("page_size = 2000\nentities = {list}"),
        )
    };
    let spec = parse_with(&with(r#"["E100", "E200"]"#), &[]).unwrap();
    assert_eq!(
        spec.intacct.entities,
        vec!["E100".to_owned(), "E200".to_owned()]
    );
    assert!(
        parse_with(&demo_text(), &[])
            .unwrap()
            .intacct
            .entities
            .is_empty()
    );
    for (list, expected) in [
        (r#"["E100", "e100"]"#, "listed twice"),
        (r#"["E 1"]"#, "not an entity id"),
        (r#"[""]"#, "not an entity id"),
        (r#"["A@B"]"#, "not an entity id"),
    ] {
        let m = message(parse_with(&with(list), &[]).unwrap_err());
        assert!(
            m.contains("intacct.entities") && m.contains(expected),
            "{list}: {m}"
        );
    }
    let text = with(r#"["E100"]"#).replace(
        "page_size = 2000",
        "page_size = 2000\nlocation_id = \"E100\"",
    );
    let m = message(parse_with(&text, &[]).unwrap_err());
    assert!(
        m.contains("intacct.entities") && m.contains("location_id"),
        "{m}"
    );
}

#[test]
fn limits_are_enforced_with_the_key_named() {
    let text = demo_text().replace("page_size = 2000", "page_size = 2001");
    let m = message(parse_with(&text, &[]).unwrap_err());
    assert!(m.contains("intacct.page_size") && m.contains("2001"), "{m}");

    let text = demo_text().replace("session_ttl_secs = 3000", "session_ttl_secs = 7200");
    let m = message(parse_with(&text, &[]).unwrap_err());
    assert!(m.contains("session_ttl_secs"), "{m}");

    let m =
        message(parse_with(&demo_text(), &[("INTACCT_TIME_ZONE", "Mars/Olympus")]).unwrap_err());
    assert!(m.contains("Mars/Olympus"), "{m}");

    let text = demo_text().replace("\"VENDOR\", \"APBILL\"", "\"VENDOR\", \"VENDOR\"");
    let m = message(parse_with(&text, &[]).unwrap_err());
    assert!(m.contains("listed twice"), "{m}");
}

#[test]
fn object_overrides_apply_and_must_name_objects_in_scope() {
    let text = format!(
        "{}\n[extract.object.APBILL]\nmethod = \"readByQuery\"\npage_size = 500\nfields = [\"RECORDNO\"]\n",
        demo_text()
    );
    let spec = parse_with(&text, &[]).unwrap();
    let apbill = spec
        .extract
        .objects
        .iter()
        .find(|o| o.name == "APBILL")
        .unwrap();
    assert_eq!(apbill.method, ReadMethod::ReadByQuery);
    assert_eq!(apbill.page_size, Some(500));
    assert_eq!(
        apbill.fields.as_deref(),
        Some(&["RECORDNO".to_string()][..])
    );

    let text = format!("{}\n[extract.object.NOPE]\npage_size = 5\n", demo_text());
    let m = message(parse_with(&text, &[]).unwrap_err());
    assert!(m.contains("NOPE"), "{m}");
}

#[test]
fn credentials_file_references_open_with_an_identity() {
    let dir = tempfile::tempdir().unwrap();
    let identity = age::x25519::Identity::generate();
    let recipient = identity.to_public().to_string();
    let identity_path = dir.path().join("key.txt");
    {
        use age::secrecy::ExposeSecret;
        std::fs::write(&identity_path, identity.to_string().expose_secret()).unwrap();
    }
    let ciphertext = credentials::encrypt(
        "# test\nINTACCT_SENDER=from-file-1\nINTACCT_USER=from-file-2\n",
        &[recipient],
        None,
    )
    .unwrap();
    assert!(ciphertext.starts_with(b"-----BEGIN AGE ENCRYPTED FILE-----"));
    let creds_path = dir.path().join("creds.age");
    std::fs::write(&creds_path, &ciphertext).unwrap();

    let text = demo_text()
        .replace(
            "\"${INTACCT_SENDER_PASSWORD:-sim-sender-password}\"",
            "\"credentials:INTACCT_SENDER\"",
        )
        .replace(
            "\"${INTACCT_USER_PASSWORD:-sim-user-password}\"",
            "\"credentials:INTACCT_USER\"",
        );
    let vars = [
        (credentials::FILE_ENV, creds_path.to_str().unwrap()),
        (credentials::IDENTITY_ENV, identity_path.to_str().unwrap()),
    ];
    let spec = parse_with(&text, &vars).unwrap();
    assert_eq!(spec.intacct.sender_password.expose(), "from-file-1");
    assert_eq!(spec.intacct.user_password.expose(), "from-file-2");

    // Without the key, the error says which variables would open it.
    let m = message(parse_with(&text, &vars[..1]).unwrap_err());
    assert!(m.contains(credentials::IDENTITY_ENV), "{m}");

    // A wrong key does not open it.
    let other = age::x25519::Identity::generate();
    let other_path = dir.path().join("other.txt");
    {
        use age::secrecy::ExposeSecret;
        std::fs::write(&other_path, other.to_string().expose_secret()).unwrap();
    }
    let m = message(
        parse_with(
            &text,
            &[
                (credentials::FILE_ENV, creds_path.to_str().unwrap()),
                (credentials::IDENTITY_ENV, other_path.to_str().unwrap()),
            ],
        )
        .unwrap_err(),
    );
    assert!(m.contains("cannot decrypt"), "{m}");
    assert!(!m.contains("from-file"), "{m}");
}

#[test]
fn credential_entries_reject_bad_lines_without_echoing_values() {
    let m = message(
        credentials::parse_entries("GOOD=1\nnot a pair secretvalue\n", Path::new("c")).unwrap_err(),
    );
    assert!(m.contains("line 2"), "{m}");
    assert!(!m.contains("secretvalue"), "{m}");
    let m = message(credentials::parse_entries("A=1\nA=2\n", Path::new("c")).unwrap_err());
    assert!(m.contains("twice"), "{m}");
}

#[test]
fn loopback_detection() {
    for (u, expect) in [
        ("http://127.0.0.1:1/", true),
        ("http://127.8.9.1/", true),
        ("http://localhost:9/", true),
        ("http://[::1]:9/", true),
        ("https://api.intacct.com/", false),
        ("http://10.0.0.1/", false),
    ] {
        assert_eq!(is_loopback(&url::Url::parse(u).unwrap()), expect, "{u}");
    }
}

#[test]
fn delete_feed_defaults_to_audit_history_and_can_be_turned_off() {
    let text = demo_text();
    let without: String = text
        .lines()
        .filter(|l| !l.trim_start().starts_with("deletes"))
        .map(|l| format!("{l}\n"))
        .collect();
    let spec = parse_with(&without, &[]).unwrap();
    assert_eq!(spec.extract.deletes, DeleteFeed::AuditHistory);
    let off = without.replace("[extract]\n", "[extract]\ndeletes = \"off\"\n");
    assert_eq!(
        parse_with(&off, &[]).unwrap().extract.deletes,
        DeleteFeed::Off
    );
    let explicit = without.replace("[extract]\n", "[extract]\ndeletes = \"audit_history\"\n");
    assert_eq!(
        parse_with(&explicit, &[]).unwrap().extract.deletes,
        DeleteFeed::AuditHistory
    );
    let bad = without.replace("[extract]\n", "[extract]\ndeletes = \"sometimes\"\n");
    let err = message(parse_with(&bad, &[]).unwrap_err());
    assert!(err.contains("sometimes"), "{err}");
    assert!(
        err.contains("audit_history") && err.contains("off"),
        "{err}"
    );
}

#[test]
fn an_s3_stage_needs_a_storage_integration_and_snowflake_reads_the_stage_url() {
    let err = parse_with(&demo_text(), &[("STAGE_URL", "s3://bucket/prefix")]).unwrap_err();
    match err {
        Error::Config { location, message } => {
            assert!(
                location.ends_with("snowflake.storage_integration"),
                "{location}"
            );
            assert!(message.contains("storage integration"), "{message}");
        }
        other => panic!("expected a configuration error, got {other:?}"),
    }
    let spec = parse_with(&demo_text(), &[]).unwrap();
    assert_eq!(spec.snowflake.stage_url, "file:///work/x/.demo/stage/");
    assert_eq!(spec.snowflake.stage_name, "INTACCT_STAGE");
    assert_eq!(spec.snowflake.warehouse.as_deref(), Some("LOAD_WH"));
    assert!(spec.snowflake.create_database);
}

#[test]
fn the_shipped_example_pipelines_parse_with_their_secrets_from_env_and_credentials() {
    let dir = tempfile::tempdir().unwrap();
    let identity = age::x25519::Identity::generate();
    let identity_path = dir.path().join("key.txt");
    {
        use age::secrecy::ExposeSecret;
        std::fs::write(&identity_path, identity.to_string().expose_secret()).unwrap();
    }
    let ciphertext = credentials::encrypt(
        "INTACCT_SENDER_PASSWORD=s\nINTACCT_USER_PASSWORD=u\nSNOWFLAKE_KEY_PASSPHRASE=p\n",
        &[identity.to_public().to_string()],
        None,
    )
    .unwrap();
    let creds_path = dir.path().join("creds.age");
    std::fs::write(&creds_path, &ciphertext).unwrap();
    let vars = [
        (credentials::FILE_ENV, creds_path.to_str().unwrap()),
        (credentials::IDENTITY_ENV, identity_path.to_str().unwrap()),
        ("INTACCT_SENDER_ID", "ACME"),
        ("INTACCT_COMPANY_ID", "acme-co"),
        ("INTACCT_USER_ID", "loader"),
        ("SNOWFLAKE_ACCOUNT", "myorg-myaccount"),
    ];
    for name in ["nightly.example.toml", "backfill.example.toml"] {
        let path = Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("pipelines")
            .join(name);
        let text = std::fs::read_to_string(&path).unwrap();
        let spec = parse_with(&text, &vars).unwrap_or_else(|e| panic!("{name}: {e}"));
        assert_eq!(spec.name, "nightly", "{name} shares the nightly lock");
        assert_eq!(spec.intacct.user_password.expose(), "u", "{name}");
        assert_eq!(
            spec.snowflake.stage_url, "s3://acme-finance-intacct/stage/",
            "{name}"
        );
        assert_eq!(
            spec.snowflake.storage_integration.as_deref(),
            Some("INTACCT_S3")
        );
        match &spec.snowflake.auth {
            SnowflakeAuth::KeyPair { passphrase, .. } => {
                assert_eq!(passphrase.as_ref().map(|p| p.expose()), Some("p"), "{name}")
            }
            other => panic!("{name}: {other:?}"),
        }
    }
}

#[test]
fn objects_take_their_own_lookback_and_excluded_fields_but_never_the_keys() {
    let text = demo_text()
        + "\n[extract.object.VENDOR]\nlookback_secs = 86400\nexclude_fields = [\"name1099\", \"TAXID\"]\n";
    let spec = parse_with(&text, &[]).unwrap();
    let vendor = spec
        .extract
        .objects
        .iter()
        .find(|o| o.name == "VENDOR")
        .unwrap();
    assert_eq!(vendor.lookback_secs, Some(86_400));
    assert_eq!(vendor.exclude_fields, ["NAME1099", "TAXID"]);
    for needed in ["RECORDNO", "WHENMODIFIED", "VENDORID"] {
        let text =
            demo_text() + &format!("\n[extract.object.VENDOR]\nexclude_fields = [\"{needed}\"]\n");
        match parse_with(&text, &[]).unwrap_err() {
            Error::Config { location, message } => {
                assert!(
                    location.ends_with("extract.object.VENDOR.exclude_fields"),
                    "{location}"
                );
                assert!(message.contains(needed), "{message}");
            }
            other => panic!("{needed}: {other:?}"),
        }
    }
    let too_long = demo_text().replace("lookback_secs = 7200", "lookback_secs = 99999999999999");
    assert!(matches!(
        parse_with(&too_long, &[]),
        Err(Error::Config { location, .. }) if location.ends_with("extract.lookback_secs")
    ));
}

#[test]
fn durations_past_their_bounds_are_configuration_errors_naming_the_key() {
    let cases = [
        (
            "timeout_secs = 60\nmax_concurrent",
            "timeout_secs = 18446744073709551615\nmax_concurrent",
            "intacct.timeout_secs",
        ),
        (
            "lock_lease_secs = 120",
            "lock_lease_secs = 18446744073709551615",
            "stage.lock_lease_secs",
        ),
        (
            "lock_lease_secs = 120",
            "lock_lease_secs = 1",
            "stage.lock_lease_secs",
        ),
        (
            "max_elapsed_secs = 600",
            "max_elapsed_secs = 18446744073709551615",
            "intacct.retry.max_elapsed_secs",
        ),
        (
            "max_backoff_ms = 30000",
            "max_backoff_ms = 18446744073709551615",
            "intacct.retry.max_backoff_ms",
        ),
        (
            "timeout_secs = 3600",
            "timeout_secs = 0",
            "snowflake.timeout_secs",
        ),
    ];
    for (from, to, key) in cases {
        let text = demo_text();
        assert!(text.contains(from), "{from}");
        match parse_with(&text.replacen(from, to, 1), &[]) {
            Err(Error::Config { location, message }) => {
                assert!(location.ends_with(key), "{location} for {key}");
                assert!(message.contains("is outside"), "{message}");
            }
            other => panic!("{key}: expected a configuration error, got {other:?}"),
        }
    }
}

#[test]
fn snowflake_retry_and_poll_cap_are_read_and_bounded() {
    let demo = demo_text();
    assert!(demo.contains("\n[snowflake]\n"));
    let text = format!(
        "{}\n\n[snowflake.retry]\nmax_attempts = 6\ninitial_backoff_ms = 100\nmax_backoff_ms = 3000\n",
        demo.replacen(
            "\n[snowflake]\n",
            "\n[snowflake]\npoll_max_backoff_ms = 250\n",
            1
        )
    );
    let spec = parse_with(&text, &[]).unwrap();
    assert_eq!(spec.snowflake.poll_max_backoff_ms, 250);
    assert_eq!(
        spec.snowflake.retry,
        RetrySpec {
            max_attempts: 6,
            initial_backoff_ms: 100,
            max_backoff_ms: 3_000,
            // Not set: the default.
            max_elapsed_secs: 900,
        }
    );
    // Intacct's table keeps its own defaults.
    assert_eq!(spec.intacct.retry.max_backoff_ms, 30_000);
    for (text, key) in [
        (
            demo.replacen(
                "\n[snowflake]\n",
                "\n[snowflake]\npoll_max_backoff_ms = 0\n",
                1,
            ),
            "snowflake.poll_max_backoff_ms",
        ),
        (
            format!(
                "{}\n\n[snowflake.retry]\nmax_backoff_ms = 99999999999\n",
                demo.trim_end()
            ),
            "snowflake.retry.max_backoff_ms",
        ),
    ] {
        match parse_with(&text, &[]) {
            Err(Error::Config { location, message }) => {
                assert!(location.ends_with(key), "{location} for {key}");
                assert!(message.contains("is outside"), "{message}");
            }
            other => panic!("{key}: expected a configuration error, got {other:?}"),
        }
    }
    let unknown = format!("{}\n\n[snowflake.retry]\nmax_tries = 3\n", demo.trim_end());
    assert!(matches!(
        parse_with(&unknown, &[]),
        Err(Error::Config { .. })
    ));
}

#[test]
fn the_credentials_source_never_prints_the_environment() {
    let e = env(&[
        (credentials::FILE_ENV, "/etc/creds.age"),
        (credentials::PASSPHRASE_ENV, "age-passphrase-value"),
        ("INTACCT_USER_PASSWORD", "user-password-value"),
    ]);
    let debug = format!("{:?}", CredentialSource::from_env(&e));
    assert!(debug.contains("/etc/creds.age"), "{debug}");
    assert!(debug.contains("passphrase_set: true"), "{debug}");
    for secret in ["age-passphrase-value", "user-password-value"] {
        assert!(!debug.contains(secret), "{secret} in {debug}");
    }
}

#[test]
fn objects_take_a_key_and_a_watermark_field_named_like_fields() {
    let spec = parse_with(&demo_text(), &[]).unwrap();
    assert!(
        spec.extract
            .objects
            .iter()
            .all(|o| o.key == DEFAULT_KEY && o.watermark_field == DEFAULT_WATERMARK_FIELD)
    );
    let text = demo_text()
        + "\n[extract.object.VENDOR]\nkey = \"vendorid\"\nwatermark_field = \"WhenModified\"\n";
    let spec = parse_with(&text, &[]).unwrap();
    let vendor = spec
        .extract
        .objects
        .iter()
        .find(|o| o.name == "VENDOR")
        .unwrap();
    assert_eq!(
        (vendor.key.as_str(), vendor.watermark_field.as_str()),
        ("VENDORID", "WHENMODIFIED")
    );
    for (settings, setting) in [
        ("key = \"VENDOR ID\"", "key"),
        ("key = \"\"", "key"),
        ("watermark_field = \"1WHEN\"", "watermark_field"),
        (
            "watermark_field = \"WHENMODIFIED; DROP\"",
            "watermark_field",
        ),
        ("key = \"WHENMODIFIED\"", "key"),
        (
            "key = \"TAXID\"\nexclude_fields = [\"taxid\"]",
            "exclude_fields",
        ),
    ] {
        let text = demo_text() + &format!("\n[extract.object.VENDOR]\n{settings}\n");
        match parse_with(&text, &[]).unwrap_err() {
            Error::Config { location, .. } => assert!(
                location.ends_with(&format!("extract.object.VENDOR.{setting}")),
                "{settings}: {location}"
            ),
            other => panic!("{settings}: {other:?}"),
        }
    }
}

#[test]
fn the_delete_feed_has_its_own_bounded_lookback_per_pipeline_and_object() {
    let spec = parse_with(&demo_text(), &[]).unwrap();
    assert_eq!(spec.extract.delete_lookback_secs, 10_800);
    // Bad values are quarantined unless the pipeline says otherwise.
    assert!(spec.extract.quarantine_bad_values);
    let text = demo_text().replace(
        "lookback_secs = 7200",
        "lookback_secs = 7200\ndelete_lookback_secs = 14400\nquarantine_bad_values = false",
    ) + "\n[extract.object.APBILL]\ndelete_lookback_secs = 86400\n";
    let spec = parse_with(&text, &[]).unwrap();
    assert_eq!(spec.extract.delete_lookback_secs, 14_400);
    assert!(!spec.extract.quarantine_bad_values);
    let bill = spec
        .extract
        .objects
        .iter()
        .find(|o| o.name == "APBILL")
        .unwrap();
    assert_eq!(bill.delete_lookback_secs, Some(86_400));
    let too_long = demo_text().replace(
        "lookback_secs = 7200",
        "lookback_secs = 7200\ndelete_lookback_secs = 99999999999",
    );
    assert!(matches!(
        parse_with(&too_long, &[]),
        Err(Error::Config { location, .. }) if location.ends_with("extract.delete_lookback_secs")
    ));
    let too_long = demo_text() + "\n[extract.object.APBILL]\ndelete_lookback_secs = 99999999999\n";
    assert!(matches!(
        parse_with(&too_long, &[]),
        Err(Error::Config { location, .. })
            if location.ends_with("extract.object.APBILL.delete_lookback_secs")
    ));
}

#[test]
fn the_transaction_budget_is_optional_and_at_least_one() {
    let spec = parse_with(&demo_text(), &[]).unwrap();
    assert_eq!(spec.intacct.max_transactions_per_run, None);
    let with = |n: &str| {
        demo_text().replace(
            "page_size = 2000",
            &format!("page_size = 2000\nmax_transactions_per_run = {n}"),
        )
    };
    let spec = parse_with(&with("5000"), &[]).unwrap();
    assert_eq!(spec.intacct.max_transactions_per_run, Some(5_000));
    let m = message(parse_with(&with("0"), &[]).unwrap_err());
    assert!(m.contains("intacct.max_transactions_per_run"), "{m}");
    assert_eq!(
        crate::pipeline::client_config(&parse_with(&with("7"), &[]).unwrap())
            .max_transactions_per_run,
        Some(7)
    );
}

#[test]
fn notify_takes_a_webhook_by_reference_and_announces_failures_by_default() {
    let with = |table: &str| format!("{}\n[notify]\n{table}\n", demo_text());
    // No table: nothing is announced.
    assert!(parse_with(&demo_text(), &[]).unwrap().notify.is_none());

    let hook = "https://hooks.example.com/services/T0/B0/tok3n";
    let spec = parse_with(&with("webhook_url = \"${HOOK}\""), &[("HOOK", hook)]).unwrap();
    let notify = spec.notify.as_ref().unwrap();
    assert_eq!(notify.webhook_url.expose(), hook);
    assert_eq!(notify.on_exit_codes, vec![1, 2, 3, 5]);
    assert_eq!(notify.timeout_secs, 10);
    assert!(spec.secrets().iter().any(|s| s.expose() == hook));
    assert!(
        !format!("{spec:?}").contains("tok3n"),
        "the URL is a secret"
    );

    // A literal URL is refused, and so is a default for a URL off loopback.
    let literal = parse_with(&with(&format!("webhook_url = \"{hook}\"")), &[]).unwrap_err();
    assert!(
        matches!(&literal, Error::Config { location, .. } if location.ends_with("notify.webhook_url")),
        "{literal}"
    );
    assert!(!literal.to_string().contains("tok3n"), "{literal}");
    let remote_default =
        parse_with(&with(&format!("webhook_url = \"${{HOOK:-{hook}}}\"")), &[]).unwrap_err();
    assert!(
        matches!(remote_default, Error::Secret { .. }),
        "{remote_default}"
    );
    let loopback = parse_with(
        &with("webhook_url = \"${HOOK:-http://127.0.0.1:9/hook}\"\non_exit_codes = [3, 4]\ntimeout_secs = 2"),
        &[],
    )
    .unwrap();
    let notify = loopback.notify.unwrap();
    assert_eq!(notify.on_exit_codes, vec![3, 4]);
    assert_eq!(notify.timeout_secs, 2);

    // What the variable names must be a URL, and the error does not quote it.
    let not_url = parse_with(
        &with("webhook_url = \"${HOOK}\""),
        &[("HOOK", "s3cr3t-not-a-url")],
    )
    .unwrap_err();
    assert!(matches!(not_url, Error::Config { .. }));
    assert!(!not_url.to_string().contains("s3cr3t"), "{not_url}");
    for bad in [
        "on_exit_codes = [7]",
        "on_exit_codes = [-1]",
        "timeout_secs = 0",
        "webhook = \"${HOOK}\"",
    ] {
        let err = parse_with(
            &with(&format!("webhook_url = \"${{HOOK}}\"\n{bad}")),
            &[("HOOK", hook)],
        )
        .unwrap_err();
        assert!(matches!(err, Error::Config { .. }), "{bad}: {err}");
    }
}

#[test]
fn snowflake_names_are_stored_names_unquoted_upper_cased_and_quoted_kept() {
    // The demo's warehouse line replaced by `lines`.
    let with = |lines: &str| {
        let text = demo_text().replace("warehouse = \"${SNOWFLAKE_WAREHOUSE:-LOAD_WH}\"\n", lines);
        assert_ne!(text, demo_text());
        parse_with(&text, &[])
    };
    let spec = with("warehouse = \"load_wh\"\nrole = \"intacct_loader\"\n").unwrap();
    assert_eq!(spec.snowflake.warehouse.as_deref(), Some("LOAD_WH"));
    assert_eq!(spec.snowflake.role.as_deref(), Some("INTACCT_LOADER"));
    let spec = with("warehouse = '\"load_wh\"'\nrole = '\"Intacct \"\"Loader\"\"\"'\n").unwrap();
    assert_eq!(spec.snowflake.warehouse.as_deref(), Some("load_wh"));
    assert_eq!(spec.snowflake.role.as_deref(), Some("Intacct \"Loader\""));
    let quoted_database = demo_text().replace(
        "database = \"${SNOWFLAKE_DATABASE:-INTACCT}\"",
        "database = '\"Finance\"'",
    );
    assert_eq!(
        parse_with(&quoted_database, &[])
            .unwrap()
            .snowflake
            .database,
        "Finance"
    );
    for (bad, key) in [
        ("warehouse = \"load wh\"\n", "snowflake.warehouse"),
        ("warehouse = \"1wh\"\n", "snowflake.warehouse"),
        ("warehouse = '\"\"'\n", "snowflake.warehouse"),
        ("role = '\"a\"b\"'\n", "snowflake.role"),
    ] {
        match with(bad) {
            Err(Error::Config { location, message }) => {
                assert!(location.ends_with(key), "{bad}: {location}");
                assert!(message.contains("double-quoted"), "{bad}: {message}");
            }
            other => panic!("{bad}: expected a configuration error, got {other:?}"),
        }
    }
}

#[test]
fn notify_settings_are_read_from_a_file_that_does_not_validate() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("broken.toml");
    let text = demo_text().replace("page_size = 2000", "page_size = 0")
        + "\n[notify]\nwebhook_url = \"${HOOK:-http://127.0.0.1:9/hook}\"\n";
    std::fs::write(&path, text).unwrap();
    assert!(matches!(load(&path), Err(Error::Config { .. })));
    let (name, notify) = load_notify(&path).unwrap();
    assert_eq!(name.as_deref(), Some("demo"));
    assert_eq!(
        notify.unwrap().webhook_url.expose(),
        "http://127.0.0.1:9/hook"
    );
    std::fs::write(&path, "name = \"x\"\n[stage]\nurl = 3\n").unwrap();
    assert_eq!(load_notify(&path).unwrap().1.map(|n| n.timeout_secs), None);
}

#[test]
fn an_object_evolves_its_schema_unless_it_is_frozen() {
    let text = demo_text() + "\n[extract.object.VENDOR]\nschema = \"freeze\"\n";
    let spec = parse_with(&text, &[]).unwrap();
    let policy = |name: &str| {
        spec.extract
            .objects
            .iter()
            .find(|o| o.name == name)
            .unwrap()
            .schema
    };
    assert_eq!(policy("VENDOR"), SchemaPolicy::Freeze);
    assert_eq!(policy("APBILL"), SchemaPolicy::Evolve);

    let text = demo_text() + "\n[extract.object.VENDOR]\nschema = \"frozen\"\n";
    let m = message(parse_with(&text, &[]).unwrap_err());
    assert!(m.contains("frozen") && m.contains("freeze"), "{m}");
}

#[test]
fn a_local_stage_is_refused_for_a_snowflake_that_is_not_on_loopback() {
    let remote = [(
        "SNOWFLAKE_URL",
        "https://myorg-myaccount.snowflakecomputing.com",
    )];
    match parse_with(&demo_text(), &remote).unwrap_err() {
        Error::Config { location, message } => {
            assert!(location.ends_with("stage.url"), "{location}");
            assert!(
                message.contains("cannot read a local directory")
                    && message.contains("myorg-myaccount.snowflakecomputing.com")
                    && message.contains("s3://"),
                "{message}"
            );
        }
        other => panic!("expected a configuration error, got {other:?}"),
    }
    // Set explicitly, the error names snowflake.stage_url.
    let explicit = demo_text().replace(
        "create_database = true\n",
        "create_database = true\nstage_url = \"file:///srv/stage/\"\n",
    );
    match parse_with(&explicit, &remote).unwrap_err() {
        Error::Config { location, .. } => {
            assert!(location.ends_with("snowflake.stage_url"), "{location}")
        }
        other => panic!("expected a configuration error, got {other:?}"),
    }
    // An S3 stage suits a remote Snowflake; a local one suits the emulator on loopback.
    let s3 = parse_with(
        &demo_text(),
        &[
            remote[0],
            ("STAGE_URL", "s3://bucket/prefix"),
            ("SNOWFLAKE_STORAGE_INTEGRATION", "intacct_s3"),
        ],
    )
    .unwrap();
    assert_eq!(s3.snowflake.stage_url, "s3://bucket/prefix/");
    for local in [
        "http://127.0.0.1:8086",
        "http://localhost:9",
        "http://[::1]:9",
    ] {
        let spec = parse_with(&demo_text(), &[("SNOWFLAKE_URL", local)]).unwrap();
        assert!(spec.snowflake.stage_url.starts_with("file://"), "{local}");
    }
}

#[test]
fn the_old_lock_lifetime_still_parses_and_the_lease_is_its_own_setting() {
    let text = demo_text().replace("lock_lease_secs = 120", "lock_ttl_secs = 21600");
    let spec = parse_with(&text, &[]).unwrap();
    // Ignored: the lease is the default, whatever the old lifetime said.
    assert_eq!(spec.stage.lock_lease_secs, 120);
    let text = demo_text().replace("lock_lease_secs = 120", "lock_lease_secs = 300");
    assert_eq!(parse_with(&text, &[]).unwrap().stage.lock_lease_secs, 300);
}

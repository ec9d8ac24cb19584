import Logging
import Service
import Testing

@Suite struct RunConfigurationTests {
    func resolve(
        _ arguments: [String], env: [String: String] = [:], files: [String: String] = [:],
        clusterRequired: Bool = false
    ) throws -> RunConfiguration {
        let flags = try RunFlags.parse(arguments)
        return try RunConfiguration.resolve(
            flags: flags, environment: env, hostname: "host1",
            clusterRequired: clusterRequired
        ) { path in
            guard let text = files[path] else { throw ConfigurationError("no such file") }
            return text
        }
    }

    func error(
        _ arguments: [String], env: [String: String] = [:], files: [String: String] = [:],
        clusterRequired: Bool = false
    ) -> String? {
        do {
            _ = try resolve(arguments, env: env, files: files, clusterRequired: clusterRequired)
            return nil
        } catch {
            return "\(error)"
        }
    }

    @Test func defaultsFollowTheSpec() throws {
        let c = try resolve([])
        #expect(c.brokers == nil)
        #expect(c.groupID == "khuyencong-aggregator")
        #expect(
            c.topics.all == [
                "khuyencong.execution-updates.v1", "khuyencong.regional-summaries.v1", "khuyencong.alerts.v1",
                "khuyencong.rejected.v1",
            ])
        #expect(c.guarantee == .exactlyOnce)
        #expect(c.httpHost == "127.0.0.1" && c.httpPort == 8080)
        #expect(c.rulesFile == nil && c.registry2004File == nil && c.registry2025File == nil)
        #expect(c.instanceID == "host1", "the host name, which a StatefulSet keeps stable")
        #expect(c.transactionalID == "khuyencong-aggregator-host1")
        #expect(c.logFormat == .text)
        #expect(c.batchMaxMessages == 20_000 && c.batchMaxMs == 20)
        #expect(c.logLevel == .info)
        #expect(c.kafka.values.isEmpty)
    }

    @Test func everyOptionHasAnEnvironmentVariableNamedAfterItsFlag() {
        #expect(RunConfiguration.environmentVariables.contains("KHUYENCONG_GROUP_ID"))
        #expect(RunConfiguration.environmentVariables.contains("KHUYENCONG_REGISTRY_2004"))
        #expect(RunConfiguration.environmentVariables.contains("KHUYENCONG_KAFKA_PROPERTIES_FILE"))
        #expect(RunConfiguration.environmentVariables.contains("KHUYENCONG_INSTANCE_ID"))
        #expect(RunConfiguration.environmentVariables.count == RunSetting.allCases.count - 1)
    }

    @Test func flagBeatsEnvironmentBeatsFileBeatsDefault() throws {
        let file = """
            group-id: from-file
            input-topic: in.file
            alerts-topic: alerts.file
            batch-max-ms: 50
            """
        let env = [
            "KHUYENCONG_CONFIG": "c.yaml", "KHUYENCONG_GROUP_ID": "from-env", "KHUYENCONG_INPUT_TOPIC": "in.env",
        ]
        let c = try resolve(["--group-id", "from-flag"], env: env, files: ["c.yaml": file])
        #expect(c.groupID == "from-flag")
        #expect(c.topics.input == "in.env")
        #expect(c.topics.alerts == "alerts.file")
        #expect(c.batchMaxMs == 50)
        #expect(c.topics.rejected == "khuyencong.rejected.v1")
        #expect(c.transactionalID == "from-flag-host1")
    }

    @Test func kafkaPropertiesLayerFileMapThenPropertiesFileThenEnvironmentThenFlags() throws {
        let file = """
            kafka:
              security.protocol: SSL
              sasl.mechanism: PLAIN
              client.id: file
              socket.timeout.ms: 1000
            kafka-properties-file: secret.properties
            """
        let properties = "# mounted Secret\nsasl.mechanism=SCRAM-SHA-512\nsasl.password = 0123\nclient.id=props\n"
        let env = ["KHUYENCONG_KAFKA_CLIENT_ID": "env", "KHUYENCONG_KAFKA_SECURITY_PROTOCOL": "SASL_SSL"]
        let c = try resolve(
            ["--config", "c.yaml", "--kafka", "client.id=flag", "--kafka", "sasl.username=u=1"], env: env,
            files: ["c.yaml": file, "secret.properties": properties])
        #expect(
            c.kafka.values == [
                "security.protocol": "SASL_SSL", "sasl.mechanism": "SCRAM-SHA-512", "sasl.password": "0123",
                "client.id": "flag", "sasl.username": "u=1", "socket.timeout.ms": "1000",
            ])
    }

    @Test func environmentVariableNamesMapToPropertyNames() {
        #expect(
            KafkaProperties.propertyName(forEnvironmentVariable: "KHUYENCONG_KAFKA_SASL_PASSWORD") == "sasl.password")
        #expect(KafkaProperties.propertyName(forEnvironmentVariable: "KHUYENCONG_KAFKA_PROPERTIES_FILE") == nil)
        #expect(KafkaProperties.propertyName(forEnvironmentVariable: "KHUYENCONG_BROKERS") == nil)
    }

    @Test func secretsAreRedactedInTheDescription() throws {
        let c = try resolve(
            ["--kafka", "sasl.password=hunter22", "--kafka", "ssl.key.pem=PEMDATA", "--kafka", "sasl.username=alice"],
            env: ["KHUYENCONG_KAFKA_SASL_OAUTHBEARER_CLIENT_SECRET": "tok3n"])
        let text = "\(c)"
        for secret in ["hunter22", "PEMDATA", "tok3n"] { #expect(!text.contains(secret)) }
        #expect(text.contains("sasl.password=***"))
        #expect(text.contains("sasl.username=alice"))
        #expect(Set(c.kafka.secretValues) == ["hunter22", "PEMDATA", "tok3n"])
    }

    @Test func inputTopicsAreSharedUnlessPerProvinceIsAskedForAnywhere() throws {
        #expect(try resolve([]).inputLayout == .shared)
        #expect(try resolve(["--input-topics", "per-province"]).inputLayout == .perProvince)
        #expect(try resolve([], env: ["KHUYENCONG_INPUT_TOPICS": "per-province"]).inputLayout == .perProvince)
        let file = ["c.yaml": "input-topics: per-province"]
        #expect(try resolve(["--config", "c.yaml"], files: file).inputLayout == .perProvince)
        #expect(try resolve(["--config", "c.yaml", "--input-topics", "shared"], files: file).inputLayout == .shared)
        #expect(error(["--input-topics", "each"]) == "--input-topics must be shared or per-province, got 'each'")
        #expect("\(try resolve(["--input-topics", "per-province"]))".contains("input-topics=per-province"))
    }

    @Test func configurationErrorsSayWhatToFixInOneLine() {
        let cases: [([String], [String: String], String)] = [
            (["--guarantee", "twice"], [:], "--guarantee must be exactly-once or at-least-once"),
            ([], ["KHUYENCONG_HTTP": "8080"], "KHUYENCONG_HTTP must be HOST:PORT"),
            (["--batch-max-messages", "0"], [:], "--batch-max-messages must be an integer from 1"),
            (["--log-level", "loud"], [:], "--log-level must be one of"),
            (["--input-topic", "bad topic"], [:], "is not a Kafka topic name"),
            (["--kafka", "novalue"], [:], "--kafka (occurrence 1) must be KEY=VALUE"),
            (["--kafka", "bootstrap.servers=x:9092"], [:], "bootstrap.servers is set by --brokers"),
            (["--config", "missing.yaml"], [:], "cannot read the config file missing.yaml"),
            ([], ["KHUYENCONG_KAFKA_PROPERTIES_FILE": "nope"], "cannot read the Kafka properties file nope"),
        ]
        for (arguments, env, expected) in cases {
            let message = error(arguments, env: env)
            #expect(message?.contains(expected) == true, "\(arguments) \(env): \(message ?? "no error")")
            #expect(message?.contains("\n") == false)
        }
    }

    @Test func badConfigFilesAreReportedWithoutQuotingThem() {
        let secretLine = "kafka: {sasl.password: \"s3cr3t"
        let message = error(["--config", "c.yaml"], files: ["c.yaml": secretLine])
        #expect(message?.contains("not valid YAML") == true)
        #expect(message?.contains("s3cr3t") == false)
        #expect(
            error(["--config", "c.yaml"], files: ["c.yaml": "colour: blue"])?.contains(
                "unknown setting 'colour' (known keys:") == true)
        #expect(
            error(["--config", "c.yaml"], files: ["c.yaml": "broker: k:9092"])
                == "config file c.yaml: unknown setting 'broker' (did you mean brokers?)")
        #expect(
            error(["--config", "c.yaml"], files: ["c.yaml": "- a\n- b"])?.contains("must be a YAML mapping") == true)
        let badProperties = error(["--kafka-properties-file", "p"], files: ["p": "ok=1\nsasl.password s3cr3t\n"])
        #expect(badProperties == "p line 2: expected key=value")
    }

    @Test func httpAddressForms() throws {
        #expect(try resolve(["--http", "0.0.0.0:9000"]).httpPort == 9000)
        let v6 = try resolve(["--http", "[::1]:0"])
        #expect(v6.httpHost == "::1" && v6.httpPort == 0)
        #expect(error(["--http", "host:70000"]) != nil)
    }

    @Test func runRefusesToStartWithoutAClusterAndNamesBothWays() throws {
        let message = try #require(error([], clusterRequired: true))
        #expect(message.contains("--brokers") && message.contains("--embedded"), "\(message)")
        #expect(try resolve(["--embedded"], clusterRequired: true).brokers == nil)
        #expect(try resolve([], env: ["KHUYENCONG_BROKERS": "k:9092"], clusterRequired: true).brokers == "k:9092")
        #expect(
            error(["--embedded", "--brokers", "k:9092"])?.contains("--embedded and --brokers exclude each other")
                == true)
        #expect(try resolve([]).brokers == nil, "demo and config-reference still default to the embedded broker")
    }

    @Test func unknownEnvironmentVariablesNameTheClosestSetting() {
        #expect(
            error([], env: ["KHUYENCONG_BROKER": "k:9092"])
                == "unknown setting KHUYENCONG_BROKER (did you mean KHUYENCONG_BROKERS?)")
        #expect(
            error([], env: ["KHUYENCONG_GROUPID": "g"])
                == "unknown setting KHUYENCONG_GROUPID (did you mean KHUYENCONG_GROUP_ID?)")
        #expect(
            error([], env: ["KHUYENCONG_SOMETHING_ELSE_ENTIRELY": "1"])
                == "unknown setting KHUYENCONG_SOMETHING_ELSE_ENTIRELY")
        // librdkafka properties and other commands' variables are not settings of `run`.
        #expect(
            error([], env: ["KHUYENCONG_KAFKA_CLIENT_ID": "x", "KHUYENCONG_BENCH_LOG": "info", "OTHER": "1"]) == nil)
    }

    @Test func instanceIDDerivesTheTransactionalID() throws {
        let c = try resolve(["--instance-id", "khuyencong-worker-1", "--group-id", "g"])
        #expect(c.instanceID == "khuyencong-worker-1")
        #expect(c.transactionalID == "g-khuyencong-worker-1")
        #expect(try resolve(["--instance-id", "w", "--transactional-id", "t"]).transactionalID == "t")
        #expect(error(["--instance-id", "a b"])?.contains("is not an instance id") == true)
        #expect(try resolve([], env: ["KHUYENCONG_LOG_FORMAT": "json"]).logFormat == .json)
        #expect(error(["--log-format", "xml"]) == "--log-format must be text or json, got 'xml'")
    }

    @Test func aConfigurationErrorNeverQuotesASecretValue() {
        let secret = "Sup3rS3cret"
        for (arguments, env) in [
            (["--kafka", "sasl.password=\(secret)", "--guarantee", secret], [String: String]()),
            (["--batch-max-ms", secret], ["KHUYENCONG_KAFKA_SSL_KEY_PASSWORD": secret]),
            (["--http", secret, "--config", "c.yaml"], [:]),
        ] {
            let message = error(arguments, env: env, files: ["c.yaml": "kafka:\n  sasl.password: \(secret)\n"])
            #expect(message != nil && message?.contains(secret) == false, "\(message ?? "no error")")
            #expect(message?.contains("***") == true, "\(message ?? "")")
        }
    }
}

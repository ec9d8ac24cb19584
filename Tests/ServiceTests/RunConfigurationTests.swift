import Logging
import Service
import Testing

@Suite struct RunConfigurationTests {
    func resolve(_ arguments: [String], env: [String: String] = [:], files: [String: String] = [:]) throws -> RunConfiguration {
        let options = try RunOptions.parse(arguments)
        return try RunConfiguration.resolve(options: options, environment: env, hostname: "host1") { path in
            guard let text = files[path] else { throw ConfigurationError("no such file") }
            return text
        }
    }

    func error(_ arguments: [String], env: [String: String] = [:], files: [String: String] = [:]) -> String? {
        do {
            _ = try resolve(arguments, env: env, files: files)
            return nil
        } catch {
            return "\(error)"
        }
    }

    @Test func defaultsFollowTheSpec() throws {
        let c = try resolve([])
        #expect(c.brokers == nil)
        #expect(c.groupID == "khuyencong-aggregator")
        #expect(c.topics.all == ["khuyencong.execution-updates.v1", "khuyencong.regional-summaries.v1", "khuyencong.alerts.v1", "khuyencong.rejected.v1"])
        #expect(c.guarantee == .exactlyOnce)
        #expect(c.httpHost == "127.0.0.1" && c.httpPort == 8080)
        #expect(c.rulesFile == nil && c.registry2004File == nil && c.registry2025File == nil)
        #expect(c.transactionalID == "khuyencong-aggregator-host1")
        #expect(c.batchMaxMessages == 10_000 && c.batchMaxMs == 20)
        #expect(c.logLevel == .info)
        #expect(c.kafka.values.isEmpty)
    }

    @Test func everyOptionHasAnEnvironmentVariableNamedAfterItsFlag() {
        #expect(RunConfiguration.environmentVariables.contains("KHUYENCONG_GROUP_ID"))
        #expect(RunConfiguration.environmentVariables.contains("KHUYENCONG_REGISTRY_2004"))
        #expect(RunConfiguration.environmentVariables.contains("KHUYENCONG_KAFKA_PROPERTIES_FILE"))
        #expect(RunConfiguration.environmentVariables.count == RunOption.allCases.count - 1)
    }

    @Test func flagBeatsEnvironmentBeatsFileBeatsDefault() throws {
        let file = """
        group-id: from-file
        input-topic: in.file
        alerts-topic: alerts.file
        batch-max-ms: 50
        """
        let env = ["KHUYENCONG_CONFIG": "c.yaml", "KHUYENCONG_GROUP_ID": "from-env", "KHUYENCONG_INPUT_TOPIC": "in.env"]
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
        let c = try resolve(["--config", "c.yaml", "--kafka", "client.id=flag", "--kafka", "sasl.username=u=1"], env: env,
                            files: ["c.yaml": file, "secret.properties": properties])
        #expect(c.kafka.values == [
            "security.protocol": "SASL_SSL", "sasl.mechanism": "SCRAM-SHA-512", "sasl.password": "0123",
            "client.id": "flag", "sasl.username": "u=1", "socket.timeout.ms": "1000",
        ])
    }

    @Test func environmentVariableNamesMapToPropertyNames() {
        #expect(KafkaProperties.propertyName(forEnvironmentVariable: "KHUYENCONG_KAFKA_SASL_PASSWORD") == "sasl.password")
        #expect(KafkaProperties.propertyName(forEnvironmentVariable: "KHUYENCONG_KAFKA_PROPERTIES_FILE") == nil)
        #expect(KafkaProperties.propertyName(forEnvironmentVariable: "KHUYENCONG_BROKERS") == nil)
    }

    @Test func secretsAreRedactedInTheDescription() throws {
        let c = try resolve(["--kafka", "sasl.password=hunter22", "--kafka", "ssl.key.pem=PEMDATA", "--kafka", "sasl.username=alice"],
                            env: ["KHUYENCONG_KAFKA_SASL_OAUTHBEARER_CLIENT_SECRET": "tok3n"])
        let text = "\(c)"
        for secret in ["hunter22", "PEMDATA", "tok3n"] { #expect(!text.contains(secret)) }
        #expect(text.contains("sasl.password=***"))
        #expect(text.contains("sasl.username=alice"))
        #expect(Set(c.kafka.secretValues) == ["hunter22", "PEMDATA", "tok3n"])
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
        #expect(error(["--config", "c.yaml"], files: ["c.yaml": "colour: blue"])?.contains("unknown key 'colour'") == true)
        #expect(error(["--config", "c.yaml"], files: ["c.yaml": "- a\n- b"])?.contains("must be a YAML mapping") == true)
        let badProperties = error(["--kafka-properties-file", "p"], files: ["p": "ok=1\nsasl.password s3cr3t\n"])
        #expect(badProperties == "p line 2: expected key=value")
    }

    @Test func httpAddressForms() throws {
        #expect(try resolve(["--http", "0.0.0.0:9000"]).httpPort == 9000)
        let v6 = try resolve(["--http", "[::1]:0"])
        #expect(v6.httpHost == "::1" && v6.httpPort == 0)
        #expect(error(["--http", "host:70000"]) != nil)
    }
}

import Dashboard

/// The HTTP API's OpenAPI document, served at /openapi.yaml.
enum OpenAPIDocument {
    static let yaml: String? = DashboardPages.openAPIYAML
}

extension ExecutionUpdate {
    /// The canonical wire form (`khuyencong.execution-update.v1`): members in the contract's
    /// table order, optional members only when present, no whitespace. Used by
    /// `khuyencong produce`, generators and tests; the decoder accepts it back unchanged.
    public func canonicalJSON() -> [UInt8] {
        var w = JSONWriter(capacity: 384)
        w.beginObject()
        w.key("schema"); w.string(ExecutionUpdateDecoder.schemaName)
        w.key("report_id"); w.string(reportID)
        w.key("province"); w.string(province)
        w.key("fiscal_year"); w.int(fiscalYear)
        w.key("period_end"); w.string(periodEnd.description)
        w.key("source"); w.string(source.rawValue)
        w.key("status"); w.string(status.rawValue)
        w.key("plan_vnd"); w.int(planVND)
        w.key("executed_vnd"); w.int(executedVND)
        w.key("revision"); w.int(revision)
        w.key("reported_at"); w.string(reportedAt)
        if let advancedVND { w.key("advanced_vnd"); w.int(advancedVND) }
        if let activities {
            w.key("activities")
            w.beginArray()
            for a in activities {
                w.beginObject()
                w.key("category"); w.string(a.category.rawValue)
                w.key("executed_vnd"); w.int(a.executedVND)
                if let projects = a.projects { w.key("projects"); w.int(projects) }
                if let beneficiaries = a.beneficiaries { w.key("beneficiaries"); w.int(beneficiaries) }
                w.endObject()
            }
            w.endArray()
        }
        if let consulting {
            w.key("consulting")
            w.beginObject()
            w.key("projects"); w.int(consulting.projects)
            w.key("revenue_vnd"); w.int(consulting.revenueVND)
            w.endObject()
        }
        w.endObject()
        return w.bytes
    }
}

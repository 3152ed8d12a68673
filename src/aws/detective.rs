//! Amazon Detective: the region's behaviour graphs (ListGraphs), an entity's investigations
//! (ListInvestigations, StartInvestigation, GetInvestigation) and what one found (ListIndicators),
//! read into vigil's own types.

use super::clients::{Clients, ReadOp};
use crate::actions::CallError;
use crate::model::detective::{Indicator, Investigation, finding_of_arn};
use crate::model::{EntityId, EntityKind, Ts};
use aws_sdk_detective::types::{
    FilterCriteria, IndicatorDetail, Severity, State, Status, StringFilter,
};
use aws_smithy_types::DateTime;

fn ts(t: Option<&DateTime>) -> Option<Ts> {
    t.and_then(|d| d.to_millis().ok()).map(Ts)
}

fn bad_request(e: impl std::fmt::Display) -> CallError {
    CallError::new("vigil.BadRequest", e.to_string())
}

pub(super) fn graphs(c: &Clients) -> Result<Vec<String>, CallError> {
    let mut arns = Vec::new();
    let mut token: Option<String> = None;
    loop {
        let req = c.detective.list_graphs().set_next_token(token.clone());
        let out = c.read(ReadOp::ListGraphs, req.send())?;
        arns.extend(
            out.graph_list()
                .iter()
                .filter_map(|g| g.arn().map(str::to_string)),
        );
        token = out
            .next_token()
            .filter(|t| !t.is_empty())
            .map(str::to_string);
        if token.is_none() {
            return Ok(arns);
        }
    }
}

/// The entity's investigations in `graph`, newest first.
pub(super) fn investigations(
    c: &Clients,
    graph: &str,
    entity_arn: &str,
) -> Result<Vec<Investigation>, CallError> {
    let filter = FilterCriteria::builder()
        .entity_arn(
            StringFilter::builder()
                .value(entity_arn)
                .build()
                .map_err(bad_request)?,
        )
        .build();
    let mut out_list = Vec::new();
    let mut token: Option<String> = None;
    loop {
        let req = c
            .detective
            .list_investigations()
            .graph_arn(graph)
            .filter_criteria(filter.clone())
            .set_next_token(token.clone());
        let out = c.read(ReadOp::ListInvestigations, req.send())?;
        out_list.extend(out.investigation_details().iter().map(|d| {
            investigation_of(
                d.investigation_id().unwrap_or_default(),
                d.entity_arn().unwrap_or(entity_arn),
                (d.status(), d.severity(), d.state()),
                d.created_time(),
            )
        }));
        token = out
            .next_token()
            .filter(|t| !t.is_empty())
            .map(str::to_string);
        if token.is_none() {
            break;
        }
    }
    out_list.sort_by(|a, b| (b.created, &b.id).cmp(&(a.created, &a.id)));
    Ok(out_list)
}

/// Starts an investigation of `entity_arn` over `[from, to)`; its id.
pub(super) fn start_investigation(
    c: &Clients,
    graph: &str,
    entity_arn: &str,
    from: Ts,
    to: Ts,
) -> Result<String, CallError> {
    let req = c
        .detective
        .start_investigation()
        .graph_arn(graph)
        .entity_arn(entity_arn)
        .scope_start_time(DateTime::from_millis(from.0))
        .scope_end_time(DateTime::from_millis(to.0));
    let out = c.read(ReadOp::StartInvestigation, req.send())?;
    out.investigation_id()
        .map(str::to_string)
        .ok_or_else(|| CallError::new("vigil.NoId", "StartInvestigation answered without an id"))
}

pub(super) fn investigation(
    c: &Clients,
    graph: &str,
    id: &str,
) -> Result<Investigation, CallError> {
    let req = c
        .detective
        .get_investigation()
        .graph_arn(graph)
        .investigation_id(id);
    let d = c.read(ReadOp::GetInvestigation, req.send())?;
    Ok(investigation_of(
        id,
        d.entity_arn().unwrap_or_default(),
        (d.status(), d.severity(), d.state()),
        d.created_time(),
    ))
}

/// An investigation from what ListInvestigations and GetInvestigation both say of it.
fn investigation_of(
    id: &str,
    entity_arn: &str,
    (status, severity, state): (Option<&Status>, Option<&Severity>, Option<&State>),
    created: Option<&DateTime>,
) -> Investigation {
    Investigation {
        id: id.to_string(),
        entity_arn: entity_arn.to_string(),
        status: status.map(|s| s.as_str().to_string()).unwrap_or_default(),
        severity: severity.map(|s| s.as_str().to_string()).unwrap_or_default(),
        state: state.map(|s| s.as_str().to_string()).unwrap_or_default(),
        created: ts(created),
    }
}

/// Every indicator of investigation `id`, page by page.
pub(super) fn indicators(c: &Clients, graph: &str, id: &str) -> Result<Vec<Indicator>, CallError> {
    let mut list = Vec::new();
    let mut token: Option<String> = None;
    loop {
        let req = c
            .detective
            .list_indicators()
            .graph_arn(graph)
            .investigation_id(id)
            .set_next_token(token.clone());
        let out = c.read(ReadOp::ListIndicators, req.send())?;
        for i in out.indicators() {
            let kind = i
                .indicator_type()
                .map(|t| t.as_str().to_string())
                .unwrap_or_default();
            let (detail, pivot) = i.indicator_detail().map(describe).unwrap_or_default();
            list.push(Indicator {
                kind,
                detail,
                pivot,
            });
        }
        token = out
            .next_token()
            .filter(|t| !t.is_empty())
            .map(str::to_string);
        if token.is_none() {
            return Ok(list);
        }
    }
}

/// An indicator's detail in one line, and the entity it points at.
fn describe(d: &IndicatorDetail) -> (String, Option<EntityId>) {
    let new_for = |account_wide: bool| {
        if account_wide {
            " (new for the whole account)"
        } else {
            ""
        }
    };
    if let Some(t) = d.ttps_observed_detail() {
        let ip = t.ip_address().unwrap_or_default();
        return (
            format!(
                "{} / {}: {} — {} from {ip} ({} ok, {} failed)",
                t.tactic().unwrap_or("?"),
                t.technique().unwrap_or("?"),
                t.procedure().unwrap_or_default(),
                t.api_name().unwrap_or("?"),
                t.api_success_count(),
                t.api_failure_count()
            ),
            EntityId::ip(ip),
        );
    }
    if let Some(t) = d.impossible_travel_detail() {
        let to = t.ending_ip_address().unwrap_or_default();
        return (
            format!(
                "{} ({}) → {} ({to}) in {} h",
                t.starting_location().unwrap_or("?"),
                t.starting_ip_address().unwrap_or("?"),
                t.ending_location().unwrap_or("?"),
                t.hourly_time_delta().unwrap_or_default()
            ),
            EntityId::ip(to),
        );
    }
    if let Some(t) = d.flagged_ip_address_detail() {
        let ip = t.ip_address().unwrap_or_default();
        return (
            format!(
                "{ip} flagged: {}",
                t.reason().map(|r| r.as_str()).unwrap_or("?")
            ),
            EntityId::ip(ip),
        );
    }
    if let Some(t) = d.new_geolocation_detail() {
        let ip = t.ip_address().unwrap_or_default();
        return (
            format!(
                "{} from {ip}{}",
                t.location().unwrap_or("?"),
                new_for(t.is_new_for_entire_account())
            ),
            EntityId::ip(ip),
        );
    }
    if let Some(t) = d.new_aso_detail() {
        return (
            format!(
                "{}{}",
                t.aso().unwrap_or("?"),
                new_for(t.is_new_for_entire_account())
            ),
            None,
        );
    }
    if let Some(t) = d.new_user_agent_detail() {
        let ua = t.user_agent().unwrap_or_default();
        return (
            format!("{ua}{}", new_for(t.is_new_for_entire_account())),
            (!ua.is_empty()).then(|| EntityId::new(EntityKind::Ua, ua)),
        );
    }
    if let Some(t) = d.related_finding_detail() {
        let arn = t.arn().unwrap_or_default();
        return (
            format!(
                "{} {}",
                t.r#type().unwrap_or("?"),
                t.ip_address().unwrap_or_default()
            ),
            finding_of_arn(arn).or_else(|| t.ip_address().and_then(EntityId::ip)),
        );
    }
    if let Some(t) = d.related_finding_group_detail() {
        return (format!("finding group {}", t.id().unwrap_or("?")), None);
    }
    (String::new(), None)
}

//! `cib.xml`: a whole CIB (configuration and an empty status section) that
//! `crm_verify --xml-file` checks and `cibadmin --replace --xml-file` loads.

use std::fmt::Write;

use crate::model::{Cluster, Primitive};
use crate::xml::attr;

/// The schema Pacemaker 2.1 validates against.
pub const VALIDATE_WITH: &str = "pacemaker-3.9";

/// `location-<rsc>-<what>` constraint ids.
pub(crate) fn location_id(rsc: &str, what: &str) -> String {
    format!("location-{rsc}-{what}")
}

pub(crate) fn render(c: &Cluster) -> String {
    let mut s = String::new();
    // admin_epoch 1: a fresh cluster's CIB (admin_epoch 0, epoch already bumped by the
    // cluster's own properties) is older, so `cibadmin --replace` accepts this one.
    let _ = writeln!(
        s,
        r#"<cib validate-with="{VALIDATE_WITH}" epoch="1" num_updates="0" admin_epoch="1">"#
    );
    s.push_str("  <configuration>\n    <crm_config>\n");
    s.push_str("      <cluster_property_set id=\"cib-bootstrap-options\">\n");
    for (name, value) in c.properties() {
        nvpair(&mut s, 8, "cib-bootstrap-options", &name, &value);
    }
    s.push_str("      </cluster_property_set>\n    </crm_config>\n    <nodes>\n");
    for n in &c.nodes {
        let _ = writeln!(
            s,
            r#"      <node id="{}" uname="{}"/>"#,
            n.id,
            attr(&n.name)
        );
    }
    s.push_str("    </nodes>\n    <resources>\n");
    for g in &c.groups {
        let _ = writeln!(s, r#"      <group id="{}">"#, attr(&g.id));
        for p in &g.members {
            primitive(&mut s, 8, p);
        }
        s.push_str("      </group>\n");
    }
    if let Some(ping) = &c.ping {
        let _ = writeln!(s, r#"      <clone id="{}">"#, attr(&ping.clone_id));
        primitive(&mut s, 8, &ping.primitive);
        s.push_str("      </clone>\n");
    }
    for f in &c.fences {
        primitive(&mut s, 6, &f.primitive);
    }
    s.push_str("    </resources>\n    <constraints>\n");
    for g in &c.groups {
        let _ = writeln!(
            s,
            r#"      <rsc_location id="{}" rsc="{}" node="{}" score="{}"/>"#,
            attr(&location_id(&g.id, &g.home)),
            attr(&g.id),
            attr(&g.home),
            c.stickiness.home_score
        );
        if c.ping.as_ref().is_some_and(|p| p.ipfail) {
            let id = location_id(&g.id, "pingd");
            let _ = writeln!(
                s,
                r#"      <rsc_location id="{id}" rsc="{}">
        <rule id="{id}-rule" score-attribute="pingd">
          <expression id="{id}-rule-expr" attribute="pingd" operation="defined"/>
        </rule>
      </rsc_location>"#,
                attr(&g.id)
            );
        }
    }
    for f in &c.fences {
        for node in &f.banned {
            let _ = writeln!(
                s,
                r#"      <rsc_location id="{}" rsc="{}" node="{}" score="-INFINITY"/>"#,
                attr(&location_id(&f.primitive.id, node)),
                attr(&f.primitive.id),
                attr(node)
            );
        }
    }
    s.push_str("    </constraints>\n    <rsc_defaults>\n");
    s.push_str("      <meta_attributes id=\"rsc_defaults-options\">\n");
    nvpair(
        &mut s,
        8,
        "rsc_defaults-options",
        "resource-stickiness",
        &c.stickiness.per_resource.to_string(),
    );
    s.push_str("      </meta_attributes>\n    </rsc_defaults>\n");
    s.push_str("  </configuration>\n  <status/>\n</cib>\n");
    s
}

fn nvpair(s: &mut String, indent: usize, prefix: &str, name: &str, value: &str) {
    let _ = writeln!(
        s,
        r#"{:indent$}<nvpair id="{}" name="{}" value="{}"/>"#,
        "",
        attr(&format!("{prefix}-{name}")),
        attr(name),
        attr(value)
    );
}

fn primitive(s: &mut String, indent: usize, p: &Primitive) {
    let provider = p
        .provider
        .as_ref()
        .map(|pr| format!(r#" provider="{}""#, attr(pr)))
        .unwrap_or_default();
    let _ = writeln!(
        s,
        r#"{:indent$}<primitive id="{}" class="{}"{provider} type="{}">"#,
        "",
        attr(&p.id),
        attr(&p.class),
        attr(&p.agent)
    );
    let inner = indent + 2;
    if !p.params.is_empty() {
        let ia = format!("{}-instance_attributes", p.id);
        let _ = writeln!(
            s,
            r#"{:inner$}<instance_attributes id="{}">"#,
            "",
            attr(&ia)
        );
        for (k, v) in &p.params {
            nvpair(s, inner + 2, &ia, k, v);
        }
        let _ = writeln!(s, "{:inner$}</instance_attributes>", "");
    }
    let _ = writeln!(s, "{:inner$}<operations>", "");
    for op in &p.ops {
        let _ = writeln!(
            s,
            r#"{:w$}<op id="{}" name="{}" interval="{}s" timeout="{}s"/>"#,
            "",
            attr(&op.id(&p.id)),
            op.name,
            op.interval_s,
            op.timeout_s,
            w = inner + 2
        );
    }
    let _ = writeln!(s, "{:inner$}</operations>", "");
    let _ = writeln!(s, "{:indent$}</primitive>", "");
}

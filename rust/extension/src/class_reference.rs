//! The class reference shown in the Godot editor comes from the doc comments of the two
//! classes (gdext's `register-docs`). This test holds them to what Godot registers: every
//! class and method that `godot --doctool --gdextension-docs` lists must have a description.

/// One class of an XML class reference: its brief, its description, and its methods with
/// their descriptions.
#[derive(Debug, Default)]
struct ClassDoc {
    name: String,
    brief: String,
    description: String,
    methods: Vec<(String, String)>,
}

/// The trimmed text of `node`'s first child element `tag` ("" where there is none).
fn child_text(node: roxmltree::Node, tag: &str) -> String {
    node.children().find(|c| c.has_tag_name(tag)).and_then(|c| c.text()).unwrap_or_default().trim().to_string()
}

fn parse(xml: &str) -> ClassDoc {
    let tree = roxmltree::Document::parse(xml).unwrap_or_else(|e| panic!("a class reference that is not XML: {e}"));
    let class = tree.root_element();
    let methods = class.children().filter(|c| c.has_tag_name("methods")).flat_map(|m| m.children().filter(|c| c.has_tag_name("method")));
    ClassDoc {
        name: class.attribute("name").unwrap_or_default().to_string(),
        brief: child_text(class, "brief_description"),
        description: child_text(class, "description"),
        methods: methods.map(|m| (m.attribute("name").unwrap_or_default().to_string(), child_text(m, "description"))).collect(),
    }
}

#[test]
#[ignore = "run by `cargo xtask test`, which first writes Godot's --doctool XML to WEBRTC_RS_DOCTOOL_DIR"]
fn every_registered_class_and_method_is_described() {
    let ours: Vec<ClassDoc> = godot::docs::__gather_xml_docs().map(|xml| parse(&xml)).collect();
    for class in &ours {
        assert!(!class.brief.is_empty() && !class.description.is_empty(), "{} has no description", class.name);
        for (method, description) in &class.methods {
            assert!(!description.is_empty(), "{}.{method} has no description", class.name);
        }
    }
    let dir = std::env::var("WEBRTC_RS_DOCTOOL_DIR").expect("WEBRTC_RS_DOCTOOL_DIR: the folder `godot --doctool` wrote");
    let files: Vec<_> = std::fs::read_dir(std::path::Path::new(&dir).join("doc_classes"))
        .expect("the doctool's doc_classes folder")
        .map(|e| e.expect("a doctool file").path())
        .collect();
    let registered: Vec<ClassDoc> = files.iter().map(|f| parse(&std::fs::read_to_string(f).expect("a doctool file"))).collect();
    let mut names: Vec<&str> = registered.iter().map(|c| c.name.as_str()).collect();
    names.sort();
    assert_eq!(names, ["WebRTCRsDataChannel", "WebRTCRsPeerConnection"], "the classes Godot registered");
    for class in &registered {
        let doc = ours.iter().find(|c| c.name == class.name).unwrap_or_else(|| panic!("{} has no class reference", class.name));
        for (method, _) in &class.methods {
            assert!(doc.methods.iter().any(|(m, d)| m == method && !d.is_empty()), "{}.{method} has no description", class.name);
        }
    }
}

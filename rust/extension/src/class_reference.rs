//! The class reference shown in the Godot editor comes from the doc comments of the two
//! classes (gdext's `register-docs`). This test holds them to what Godot registers: every
//! class and method that `godot --doctool --gdextension-docs` lists must have a description.

/// One class of an XML class reference: its brief, its description, and its methods with
/// their descriptions. Read with plain string search: the files are Godot's and gdext's own
/// simple, fixed layout.
#[derive(Debug, Default)]
struct ClassDoc {
    name: String,
    brief: String,
    description: String,
    methods: Vec<(String, String)>,
}

fn between<'a>(text: &'a str, open: &str, close: &str) -> Option<&'a str> {
    let start = text.find(open)? + open.len();
    let end = text[start..].find(close)? + start;
    Some(&text[start..end])
}

fn attribute(tag: &str, name: &str) -> Option<String> {
    between(tag, &format!("{name}=\""), "\"").map(str::to_string)
}

fn parse(xml: &str) -> ClassDoc {
    let class_tag = between(xml, "<class ", ">").unwrap_or_default();
    let mut doc = ClassDoc {
        name: attribute(class_tag, "name").unwrap_or_default(),
        brief: between(xml, "<brief_description>", "</brief_description>").unwrap_or_default().trim().to_string(),
        description: between(xml, "<description>", "</description>").unwrap_or_default().trim().to_string(),
        methods: Vec::new(),
    };
    let methods = between(xml, "<methods>", "</methods>").unwrap_or_default();
    for method in methods.split("<method ").skip(1) {
        let name = attribute(method, "name").unwrap_or_default();
        let description = between(method, "<description>", "</description>").unwrap_or_default().trim().to_string();
        doc.methods.push((name, description));
    }
    doc
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

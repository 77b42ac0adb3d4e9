//! A request over the message-size limit is refused with RESOURCE_EXHAUSTED
//! and a message saying so; the server keeps serving.

mod common;

use common::*;
use tonic::Code;
use updraft_proto::flyteidl::admin;

async fn an_oversized_request_is_resource_exhausted_and_the_server_survives() {
    let mut app = TestApp::spawn().await;
    // The client must be allowed to send it; the server is what refuses.
    let mut admin = app
        .admin
        .clone()
        .max_encoding_message_size(64 * 1024 * 1024);
    let mut task = task_request("huge", "v1");
    task.spec.as_mut().unwrap().description = Some(admin::DescriptionEntity {
        short_description: "x".repeat(updraft_admin::MAX_MESSAGE_BYTES + 1024),
        ..Default::default()
    });
    let status = admin.create_task(task).await.expect_err("too large");
    assert_eq!(status.code(), Code::ResourceExhausted, "{status:?}");
    assert!(
        status.message().contains("larger than the limit"),
        "{status:?}"
    );

    let mut signals = app
        .signals
        .clone()
        .max_encoding_message_size(64 * 1024 * 1024);
    // A service that decodes straight away (no buffering) answers the same.
    let mut huge_text = integer(1);
    huge_text.value = Some(updraft_proto::flyteidl::core::literal::Value::Scalar(
        Box::new(updraft_proto::flyteidl::core::Scalar {
            value: Some(updraft_proto::flyteidl::core::scalar::Value::Primitive(
                updraft_proto::flyteidl::core::Primitive {
                    value: Some(
                        updraft_proto::flyteidl::core::primitive::Value::StringValue(
                            "y".repeat(updraft_admin::MAX_MESSAGE_BYTES + 1),
                        ),
                    ),
                },
            )),
        }),
    ));
    let status = signals
        .set_signal(admin::SignalSetRequest {
            id: None,
            value: Some(huge_text),
        })
        .await
        .expect_err("too large");
    assert_eq!(status.code(), Code::ResourceExhausted, "{status:?}");
    assert!(
        status
            .message()
            .contains("is larger than the limit of 20971520 bytes"),
        "{status:?}"
    );

    // Still serving.
    app.admin
        .create_task(task_request("small", "v1"))
        .await
        .unwrap();
}

common::on_every_backend!(an_oversized_request_is_resource_exhausted_and_the_server_survives);

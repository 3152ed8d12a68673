"""Reads SNS deliveries back for the tests: an SQS queue subscribed to the topic (boto3 comes with
moto). Usage: sqs.py ENDPOINT create NAME | sqs.py ENDPOINT receive QUEUE_URL"""

import json
import sys

import boto3

endpoint, cmd, arg = sys.argv[1], sys.argv[2], sys.argv[3]
sqs = boto3.client(
    "sqs",
    endpoint_url=endpoint,
    region_name="us-east-1",
    aws_access_key_id="testing",
    aws_secret_access_key="testing",
)
if cmd == "create":
    url = sqs.create_queue(QueueName=arg)["QueueUrl"]
    arn = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    print(json.dumps({"url": url, "arn": arn}))
elif cmd == "receive":
    r = sqs.receive_message(QueueUrl=arg, MaxNumberOfMessages=10, WaitTimeSeconds=1)
    print(json.dumps([m["Body"] for m in r.get("Messages", [])]))
else:
    sys.exit(f"unknown command {cmd}")

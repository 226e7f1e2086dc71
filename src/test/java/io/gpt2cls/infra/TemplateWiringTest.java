package io.gpt2cls.infra;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;

import org.junit.jupiter.api.Test;

import io.gpt2cls.cli.ExitStatus;
import io.gpt2cls.function.AppConfig;

/**
 * How infra/template.yaml wires the code: which function each Lambda exports, which settings it gets,
 * what each role may touch in the bucket, how Batch retries fine-tuning, how the batch classification
 * state machine calls classify. The event payloads themselves are checked in DeploymentEventsTest.
 */
class TemplateWiringTest {

    static final Template T = Template.load();
    static final String BUCKET_ARN = "arn:aws:s3:::" + Template.BUCKET;

    @SuppressWarnings("unchecked")
    static Map<String, Object> map(Object value) {
        return (Map<String, Object>) value;
    }

    @SuppressWarnings("unchecked")
    static List<Object> list(Object value) {
        return value instanceof List<?> l ? (List<Object>) l : List.of(value);
    }

    /** A Lambda function's environment variables, resolved. */
    static Map<String, Object> environment(String function) {
        return map(T.resolve(map(T.properties(function).get("Environment")).get("Variables")));
    }

    /** The fine-tuning job's environment variables, resolved. */
    static Map<String, Object> jobEnvironment() {
        Map<String, Object> variables = new LinkedHashMap<>();
        for (Object entry : list(map(T.properties("FinetuneJobDefinition").get("ContainerProperties")).get("Environment"))) {
            variables.put((String) map(entry).get("Name"), T.resolve(map(entry).get("Value")));
        }
        return variables;
    }

    // ---- what runs where ----------------------------------------------------------------------------

    @Test
    void eachLambdaExportsItsOwnFunction() {
        Set<String> functions = AppSettings.functions();
        assertEquals(Set.of("prepare", "preparePlan", "prepareMap", "prepareReduce", "finetune", "classify"), functions);
        Map<String, String> exports = new LinkedHashMap<>();
        for (String id : T.resourcesOfType("AWS::Serverless::Function")) {
            exports.put(id, (String) environment(id).get("QUARKUS_FUNQY_EXPORT"));
        }
        assertEquals(Map.of("PrepareFunction", "prepare", "PreparePlanFunction", "preparePlan", "PrepareMapFunction", "prepareMap",
                "PrepareReduceFunction", "prepareReduce", "ClassifyFunction", "classify"), exports);
        // the fine-tuning job runs the jar's finetune command (a batch container names its job)
        assertEquals("finetune", jobEnvironment().get("GPT2CLS_JOB"));
        assertTrue(AppSettings.commands().containsKey("finetune"));
    }

    @Test
    void everySettingTheTemplateGivesIsOneTheApplicationReads() {
        Set<String> known = AppSettings.environmentVariables();
        Set<String> given = new TreeSet<>();
        for (String id : T.resourcesOfType("AWS::Serverless::Function")) {
            given.addAll(environment(id).keySet());
        }
        given.addAll(jobEnvironment().keySet());
        for (String name : given) {
            if (name.startsWith("GPT2CLS_")) {
                assertTrue(known.contains(name), name + " is not a gpt2cls.* setting of AppConfig; they are " + known);
            }
        }
        assertTrue(given.containsAll(Set.of("GPT2CLS_STORE_ALLOWED_LOCATIONS", "GPT2CLS_CLASSIFY_MODEL", "GPT2CLS_CLASSIFY_LOAD_ON_START")));
    }

    @Test
    void eachRequestMayNameOnlyTheLocationsItsFunctionNeeds() {
        String s3 = "s3://" + Template.BUCKET + "/";
        assertEquals(s3 + "raw," + s3 + "prepared", environment("PrepareFunction").get("GPT2CLS_STORE_ALLOWED_LOCATIONS"));
        assertEquals(s3 + "models/spam", environment("ClassifyFunction").get("GPT2CLS_STORE_ALLOWED_LOCATIONS"));
        assertEquals(s3 + "prepared," + s3 + "base-models," + s3 + "models", jobEnvironment().get("GPT2CLS_STORE_ALLOWED_LOCATIONS"));
        assertEquals(s3 + "models/spam", environment("ClassifyFunction").get("GPT2CLS_CLASSIFY_MODEL"));
    }

    @Test
    void classifyIsWarmWhereProvisionedAndReachableByUrlAndAlias() {
        Map<String, Object> classify = T.properties("ClassifyFunction");
        assertEquals("live", classify.get("AutoPublishAlias"));
        List<Object> provisioned = list(map(classify.get("ProvisionedConcurrencyConfig")).get("Fn::If"));
        assertEquals("HasProvisionedConcurrency", provisioned.get(0));
        assertEquals(Map.of("ProvisionedConcurrentExecutions", Map.of("Ref", "ClassifyProvisionedConcurrency")), provisioned.get(1));
        assertEquals(Map.of("Ref", "AWS::NoValue"), provisioned.get(2));
        assertEquals("0", String.valueOf(map(T.section("Parameters").get("ClassifyProvisionedConcurrency")).get("Default")));
        assertEquals(List.of("HasProvisionedConcurrency", "true", "false"),
                list(map(map(map(classify.get("Environment")).get("Variables")).get("GPT2CLS_CLASSIFY_LOAD_ON_START")).get("Fn::If")));
        assertEquals(Map.of("AuthType", Map.of("Ref", "ClassifyUrlAuthType")), classify.get("FunctionUrlConfig"));
        assertEquals("AWS_IAM", map(T.section("Parameters").get("ClassifyUrlAuthType")).get("Default"));
        assertEquals("2048", String.valueOf(map(T.section("Parameters").get("ClassifyMemoryMiB")).get("Default")));
        assertEquals("Image", classify.get("PackageType"));
        assertEquals("Image", T.properties("PrepareFunction").get("PackageType"));
    }

    /**
     * classify's JAVA_TOOL_OPTIONS: a JVM given the template's default starts (a flag it refused would fail
     * every cold start), and the default skips the verification of application classes, nothing else.
     */
    @Test
    void classifysJavaToolOptionsStartAJvmAndOnlySkipVerification() throws Exception {
        assertEquals(Map.of("Ref", "ClassifyJavaToolOptions"),
                map(map(T.properties("ClassifyFunction").get("Environment")).get("Variables")).get("JAVA_TOOL_OPTIONS"));
        String options = (String) map(T.section("Parameters").get("ClassifyJavaToolOptions")).get("Default");
        assertEquals(List.of("-XX:+UnlockDiagnosticVMOptions", "-XX:-BytecodeVerificationRemote"), List.of(options.split(" ")));
        ProcessBuilder jvm = new ProcessBuilder(ProcessHandle.current().info().command().orElse("java"),
                "-XX:+PrintFlagsFinal", "-version").redirectErrorStream(true);
        jvm.environment().put("JAVA_TOOL_OPTIONS", options);
        Process process = jvm.start();
        String output = new String(process.getInputStream().readAllBytes(), java.nio.charset.StandardCharsets.UTF_8);
        assertEquals(0, process.waitFor(), output);
        assertTrue(output.matches("(?s).*\\bBytecodeVerificationRemote\\s+= false\\b.*"), "the JVM took the flag");
        assertTrue(output.matches("(?s).*\\bBytecodeVerificationLocal\\s+= false\\b.*"), "the JDK's own classes: unverified as always");
    }

    @Test
    void prepareIsSizedForLambdasLimits() {
        Map<String, Object> prepare = T.properties("PrepareFunction");
        assertEquals(900, prepare.get("Timeout"));
        assertEquals(Map.of("Size", Map.of("Ref", "PrepareEphemeralStorageMiB")), prepare.get("EphemeralStorage"));
        assertEquals(10240, map(T.section("Parameters").get("PrepareEphemeralStorageMiB")).get("MaxValue"));
    }

    // ---- failures that reach someone ----------------------------------------------------------------

    @Test
    void anUploadEventPrepareCannotHandleIsRetriedThenQueuedAndAlarmed() {
        Map<String, Object> invoke = T.properties("PrepareEventInvokeConfig");
        assertEquals(Map.of("Ref", "PrepareFunction"), invoke.get("FunctionName"));
        assertEquals("$LATEST", invoke.get("Qualifier"));
        assertTrue((Integer) invoke.get("MaximumRetryAttempts") > 0, "faults (S3 unavailable) are raised to be retried");
        Map<String, Object> onFailure = map(map(invoke.get("DestinationConfig")).get("OnFailure"));
        assertEquals(List.of("PrepareFailedEvents", "Arn"), map(onFailure.get("Destination")).get("Fn::GetAtt"));
        assertTrue(allowStatements().get("PrepareFunction").stream().anyMatch(statement -> "sqs:SendMessage".equals(statement.get("Action"))
                && "PrepareFailedEvents.Arn".equals(statement.get("Resource"))), "the function's role sends to the destination");
        assertEquals(Map.of("Fn::GetAtt", List.of("PrepareFailedEvents", "QueueName")), alarmedQueue("PrepareFailedEventsAlarm"));
    }

    @Test
    void aFinetuneJobEventBridgeCannotSubmitIsDeadLetteredAndAlarmed() {
        Map<String, Object> target = map(list(T.properties("FinetuneOnManifest").get("Targets")).get(0));
        assertEquals(List.of("FinetuneSubmitFailedEvents", "Arn"), map(map(target.get("DeadLetterConfig")).get("Arn")).get("Fn::GetAtt"));
        assertTrue((Integer) map(target.get("RetryPolicy")).get("MaximumRetryAttempts") > 0);
        Map<String, Object> statement = map(list(map(T.properties("FinetuneSubmitFailedEventsPolicy").get("PolicyDocument")).get("Statement")).get(0));
        assertEquals(Map.of("Service", "events.amazonaws.com"), statement.get("Principal"));
        assertEquals(Map.of("ArnEquals", Map.of("aws:SourceArn", Map.of("Fn::GetAtt", List.of("FinetuneOnManifest", "Arn")))),
                statement.get("Condition"));
        assertEquals(Map.of("Fn::GetAtt", List.of("FinetuneSubmitFailedEvents", "QueueName")), alarmedQueue("FinetuneSubmitFailedEventsAlarm"));
    }

    /** The queue an alarm watches; it must fire on one message and notify the failure topic. */
    private static Object alarmedQueue(String alarm) {
        Map<String, Object> properties = T.properties(alarm);
        assertEquals("ApproximateNumberOfMessagesVisible", properties.get("MetricName"));
        assertEquals(0, properties.get("Threshold"));
        assertEquals("GreaterThanThreshold", properties.get("ComparisonOperator"));
        assertEquals(List.of(Map.of("Ref", "FailureTopic")), properties.get("AlarmActions"));
        return map(list(properties.get("Dimensions")).get(0)).get("Value");
    }

    @Test
    void failedJobsABlockedQueueAndFailedBatchClassificationsNotifyTheTopicWhichMayPublishThem() {
        Set<Object> publishers = new TreeSet<>();
        Map<String, Object> policy = map(list(map(T.properties("FailureTopicPolicy").get("PolicyDocument")).get("Statement")).get(0));
        for (Object arn : list(map(map(policy.get("Condition")).get("ArnEquals")).get("aws:SourceArn"))) {
            publishers.add(list(map(arn).get("Fn::GetAtt")).get(0));
        }
        Set<Object> notifying = new TreeSet<>();
        for (String rule : T.resourcesOfType("AWS::Events::Rule")) {
            for (Object target : list(T.properties(rule).get("Targets"))) {
                if (Map.of("Ref", "FailureTopic").equals(map(target).get("Arn"))) {
                    notifying.add(rule);
                }
            }
        }
        assertEquals(Set.of("FinetuneJobFailed", "FinetuneQueueBlocked", "BatchClassifyFailed"), notifying);
        assertEquals(notifying, publishers);
        Map<String, Object> failed = map(T.properties("FinetuneJobFailed").get("EventPattern"));
        assertEquals(List.of("Batch Job State Change"), failed.get("detail-type"));
        assertEquals(Map.of("jobQueue", List.of(Map.of("Ref", "FinetuneJobQueue")), "status", List.of("FAILED")), failed.get("detail"));
        assertEquals(List.of("Batch Job Queue Blocked"), map(T.properties("FinetuneQueueBlocked").get("EventPattern")).get("detail-type"));
        assertEquals(List.of("HasAlertEmail"), List.of(T.resource("FailureEmail").get("Condition")));
        assertEquals("", String.valueOf(map(T.section("Parameters").get("AlertEmail")).get("Default")));
    }

    @Test
    void aJobThatCannotStartIsCancelledInsteadOfWaitingForever() {
        Map<String, Object> byReason = new LinkedHashMap<>();
        for (Object action : list(T.properties("FinetuneJobQueue").get("JobStateTimeLimitActions"))) {
            assertEquals("RUNNABLE", map(action).get("State"));
            assertEquals("CANCEL", map(action).get("Action"));
            byReason.put((String) map(action).get("Reason"), map(action).get("MaxTimeSeconds"));
        }
        assertEquals(Map.of("CAPACITY:INSUFFICIENT_INSTANCE_CAPACITY", Map.of("Ref", "FinetuneCapacityWaitSeconds"),
                "MISCONFIGURATION:COMPUTE_ENVIRONMENT_MAX_RESOURCE", 600, "MISCONFIGURATION:JOB_RESOURCE_REQUIREMENT", 600), byReason);
    }

    // ---- least privilege ----------------------------------------------------------------------------

    /** Every role's Allow statements, by the resource that declares them (SAM Policies or an IAM role). */
    static Map<String, List<Map<String, Object>>> allowStatements() {
        Map<String, List<Map<String, Object>>> byOwner = new LinkedHashMap<>();
        T.section("Resources").forEach((id, value) -> {
            Map<String, Object> resource = map(value);
            Map<String, Object> properties = map(resource.getOrDefault("Properties", Map.of()));
            List<Object> documents = new ArrayList<>();
            if (String.valueOf(resource.get("Type")).startsWith("AWS::Serverless::") && properties.containsKey("Policies")) {
                documents.addAll(list(properties.get("Policies")));
            } else if ("AWS::IAM::Role".equals(resource.get("Type"))) {
                for (Object policy : list(properties.getOrDefault("Policies", List.of()))) {
                    documents.add(map(policy).get("PolicyDocument"));
                }
            }
            List<Map<String, Object>> statements = new ArrayList<>();
            for (Object document : documents) {
                assertTrue(document instanceof Map, id + ": policies are written out here, not named managed policies");
                for (Object statement : list(map(T.resolve(document)).get("Statement"))) {
                    if ("Allow".equals(map(statement).get("Effect"))) {
                        statements.add(map(statement));
                    }
                }
            }
            if (!statements.isEmpty() || "AWS::IAM::Role".equals(resource.get("Type"))) {
                byOwner.put(id, statements);
            }
        });
        return byOwner;
    }

    /** What a role may do in the bucket: "action prefix" pairs (prefix "" for the bucket itself, with its listing condition). */
    static Set<String> s3Access(List<Map<String, Object>> statements) {
        Set<String> access = new TreeSet<>();
        for (Map<String, Object> statement : statements) {
            for (Object action : list(statement.get("Action"))) {
                if (!String.valueOf(action).startsWith("s3:")) {
                    continue;
                }
                assertFalse(String.valueOf(action).contains("*"), "a wildcard S3 action: " + statement);
                for (Object resource : list(statement.get("Resource"))) {
                    String arn = String.valueOf(resource);
                    if (arn.equals(BUCKET_ARN)) {
                        assertEquals("s3:ListBucket", action, "only listing is granted on the bucket itself: " + statement);
                        Map<String, Object> like = map(map(statement.get("Condition")).get("StringLike"));
                        for (Object prefix : list(like.get("s3:prefix"))) {
                            access.add(action + " " + prefix);
                        }
                        assertEquals(Set.of("StringLike"), map(statement.get("Condition")).keySet());
                    } else {
                        assertTrue(arn.startsWith(BUCKET_ARN + "/") && arn.endsWith("/*") && !arn.equals(BUCKET_ARN + "/*"),
                                "S3 access must name a prefix of the bucket: " + arn + " in " + statement);
                        access.add(action + " " + arn.substring(BUCKET_ARN.length() + 1));
                    }
                }
            }
        }
        return access;
    }

    @Test
    void eachRoleReachesOnlyItsPrefixesOfTheBucket() {
        Map<String, List<Map<String, Object>>> roles = allowStatements();
        assertEquals(Set.of("s3:GetObject raw/*", "s3:GetObject prepared/*", "s3:PutObject prepared/*", "s3:DeleteObject prepared/*", "s3:AbortMultipartUpload prepared/*",
                "s3:ListBucket raw/*", "s3:ListBucket prepared/*"), s3Access(roles.get("PrepareFunction")));
        assertEquals(Set.of("s3:GetObject prepared/*", "s3:GetObject base-models/*", "s3:GetObject models/*",
                "s3:PutObject models/*", "s3:DeleteObject models/*", "s3:AbortMultipartUpload models/*",
                // Hub models fetched on demand are published under base-models/ (HubModels)
                "s3:PutObject base-models/*", "s3:DeleteObject base-models/*", "s3:AbortMultipartUpload base-models/*",
                "s3:ListBucket prepared/*", "s3:ListBucket base-models/*", "s3:ListBucket models/*"), s3Access(roles.get("FinetuneJobRole")));
        assertEquals(Set.of("s3:GetObject models/spam/*", "s3:ListBucket models/spam", "s3:ListBucket models/spam/*"),
                s3Access(roles.get("ClassifyFunction")));
        assertEquals(Set.of("s3:GetObject batch/input/*", "s3:PutObject batch/results/*", "s3:GetObject batch/results/*",
                "s3:ListMultipartUploadParts batch/results/*", "s3:AbortMultipartUpload batch/results/*"),
                s3Access(roles.get("BatchClassifyStateMachine")));
        // a run's plan and map results live under prepare-runs/ (expired by the bucket's lifecycle rule): the plan and map
        // functions cannot touch a dataset; only the reduce publishes one
        // (the store reads a lease it took back: GetObject wherever a function publishes)
        Set<String> planAndMap = Set.of("s3:GetObject raw/*", "s3:GetObject prepare-runs/*", "s3:PutObject prepare-runs/*",
                "s3:DeleteObject prepare-runs/*", "s3:AbortMultipartUpload prepare-runs/*", "s3:ListBucket raw/*", "s3:ListBucket prepare-runs/*");
        assertEquals(planAndMap, s3Access(roles.get("PrepareMapFunction")));
        assertEquals(planAndMap, s3Access(roles.get("PreparePlanFunction")), "the plan reads ranges of uploads and stores the plan");
        Set<String> reduce = new TreeSet<>(planAndMap);
        reduce.addAll(Set.of("s3:GetObject prepared/*", "s3:PutObject prepared/*", "s3:DeleteObject prepared/*",
                "s3:AbortMultipartUpload prepared/*", "s3:ListBucket prepared/*"));
        assertEquals(reduce, s3Access(roles.get("PrepareReduceFunction")));
        // the ItemReader reads what is under a run (its plan) and nothing of the datasets; the ResultWriter writes under prepare-runs/
        assertEquals(Set.of("s3:PutObject prepare-runs/*",
                "s3:GetObject prepare-runs/*", "s3:ListMultipartUploadParts prepare-runs/*", "s3:AbortMultipartUpload prepare-runs/*"),
                s3Access(roles.get("PrepareStateMachine")));
        assertEquals(Set.of(), s3Access(roles.get("FinetuneSubmitRole")));
        assertEquals(Set.of(), s3Access(roles.get("FinetuneInstanceRole")));
        assertEquals(Set.of(), s3Access(roles.get("FinetuneExecutionRole")));
        assertEquals(Set.of("PrepareFunction", "PreparePlanFunction", "PrepareMapFunction", "PrepareReduceFunction", "PrepareStateMachine",
                "ClassifyFunction", "BatchClassifyStateMachine", "FinetuneSubmitRole", "FinetuneJobRole", "FinetuneExecutionRole",
                "FinetuneInstanceRole"), roles.keySet());
    }

    /**
     * A role that runs this code and writes somewhere can read and list there too: the store takes a lease by
     * writing it and reading it back, stages, and lists before it commits (S3Store), so a role with PutObject
     * alone gets AccessDenied on AWS, which S3Proxy in the tests does not enforce. The state machines' writes
     * are the Distributed Map's ResultWriter, not the store.
     */
    @Test
    void everyRoleThatPublishesThroughTheStoreCanReadAndListWhereItWrites() {
        Map<String, List<Map<String, Object>>> roles = allowStatements();
        for (String role : List.of("PrepareFunction", "PreparePlanFunction", "PrepareMapFunction", "PrepareReduceFunction",
                "ClassifyFunction", "FinetuneJobRole")) {
            Set<String> access = s3Access(roles.get(role));
            for (String grant : access) {
                if (grant.startsWith("s3:PutObject ")) {
                    String prefix = grant.substring("s3:PutObject ".length());
                    assertTrue(access.contains("s3:GetObject " + prefix), role + " writes " + prefix + " but cannot read it");
                    assertTrue(access.contains("s3:ListBucket " + prefix), role + " writes " + prefix + " but cannot list it");
                }
            }
        }
    }

    /** What Step Functions needs to deliver logs (AWS documents these with Resource "*"). */
    static final Set<String> LOG_DELIVERY = Set.of("logs:CreateLogDelivery", "logs:GetLogDelivery", "logs:UpdateLogDelivery",
            "logs:DeleteLogDelivery", "logs:ListLogDeliveries", "logs:PutResourcePolicy", "logs:DescribeResourcePolicies",
            "logs:DescribeLogGroups");

    @Test
    void noStatementGrantsEverythingExceptLogDelivery() {
        allowStatements().forEach((owner, statements) -> {
            for (Map<String, Object> statement : statements) {
                if (list(statement.get("Resource")).contains("*")) {
                    for (Object action : list(statement.get("Action"))) {
                        assertTrue(LOG_DELIVERY.contains(action),
                                owner + ": '*' is only for CloudWatch Logs delivery, which has no resource-level permissions: " + statement);
                    }
                }
            }
        });
    }

    @Test
    void theStateMachineInvokesClassifysAliasAndNothingElse() {
        List<Map<String, Object>> statements = allowStatements().get("BatchClassifyStateMachine");
        List<Object> invoked = new ArrayList<>();
        for (Map<String, Object> statement : statements) {
            if (list(statement.get("Action")).contains("lambda:InvokeFunction")) {
                invoked.addAll(list(statement.get("Resource")));
            }
        }
        assertEquals(List.of("arn-of:ClassifyFunction.Alias"), invoked);
        assertEquals(Map.of("Ref", "ClassifyFunction.Alias"),
                map(T.properties("BatchClassifyStateMachine").get("DefinitionSubstitutions")).get("ClassifyFunctionAlias"));
    }

    @Test
    @SuppressWarnings("unchecked")
    void theDistributedPrepareRunsThePlanMapTasksAndTheReduceOnTheSameImageAndNothingElse() {
        for (String function : List.of("PreparePlanFunction", "PrepareMapFunction", "PrepareReduceFunction")) {
            Map<String, Object> properties = T.properties(function);
            assertEquals(T.properties("PrepareFunction").get("ImageUri"), properties.get("ImageUri"), function);
            assertEquals(T.resource("PrepareFunction").get("Metadata"), T.resource(function).get("Metadata"), function);
            assertEquals(900, properties.get("Timeout"), function);
            // uploads, the run's own prefix, and for the reduce the datasets it publishes: what each role reaches
            String s3 = "s3://" + Template.BUCKET + "/";
            assertEquals(s3 + "raw," + (function.equals("PrepareReduceFunction") ? s3 + "prepared," : "") + s3 + "prepare-runs",
                    environment(function).get("GPT2CLS_STORE_ALLOWED_LOCATIONS"), function);
        }
        assertEquals("256M", environment("PreparePlanFunction").get("GPT2CLS_PREPARE_TASK_SIZE"),
                "the plan cuts files into tasks of the parameter's size");
        List<Object> invoked = new ArrayList<>();
        for (Map<String, Object> statement : allowStatements().get("PrepareStateMachine")) {
            if (list(statement.get("Action")).contains("lambda:InvokeFunction")) {
                invoked.addAll(list(statement.get("Resource")));
            }
        }
        assertEquals(List.of("PreparePlanFunction.Arn", "PrepareMapFunction.Arn", "PrepareReduceFunction.Arn"), invoked);
        Map<String, Object> states = map(map(T.properties("PrepareStateMachine").get("Definition")).get("States"));
        assertEquals(map(states.get("Reduce")).get("Retry"), map(states.get("Plan")).get("Retry"),
                "the plan is retried by cause as the reduce is");
        Map<String, Object> mapTasks = map(states.get("MapTasks"));
        assertEquals(Map.of("Resource", "arn:aws:states:::s3:getObject", "ReaderConfig", Map.of("InputType", "JSON"),
                "Parameters", Map.of("Bucket.$", "$.plan.answer.bucket", "Key.$", "$.plan.answer.key")), mapTasks.get("ItemReader"));
        assertEquals("1", String.valueOf(map(T.section("Parameters").get("PrepareMapConcurrency")).get("MinValue")));
        assertEquals(Map.of("Ref", "PrepareStateMachine"), T.properties("PrepareFunction") == null ? null
                : map(map(T.properties("PrepareFunction").get("Environment")).get("Variables")).get("GPT2CLS_PREPARE_STATE_MACHINE"));
    }

    @Test
    void eventBridgeMaySubmitOnlyTheFinetuneJob() {
        Map<String, Object> target = map(list(T.properties("FinetuneOnManifest").get("Targets")).get(0));
        assertEquals(Map.of("Ref", "FinetuneJobQueue"), target.get("Arn"));
        assertEquals(Map.of("Ref", "FinetuneJobDefinition"), map(target.get("BatchParameters")).get("JobDefinition"));
        assertEquals(List.of("FinetuneSubmitRole", "Arn"), map(target.get("RoleArn")).get("Fn::GetAtt"));
        Map<String, Object> statement = allowStatements().get("FinetuneSubmitRole").get(0);
        assertEquals("batch:SubmitJob", statement.get("Action"));
        assertEquals(List.of("arn-of:FinetuneJobQueue", "arn-of:FinetuneJobDefinition"), statement.get("Resource"));
    }

    // ---- fine-tuning on AWS Batch -------------------------------------------------------------------

    /** AWS Batch's EvaluateOnExit: the first entry whose given conditions all match decides; none matching = RETRY. */
    static String batchAction(String statusReason, String reason, String exitCode) {
        Map<String, Object> retry = map(T.properties("FinetuneJobDefinition").get("RetryStrategy"));
        for (Object value : list(retry.get("EvaluateOnExit"))) {
            Map<String, Object> entry = map(value);
            if (glob(entry.get("OnStatusReason"), statusReason) && glob(entry.get("OnReason"), reason) && glob(entry.get("OnExitCode"), exitCode)) {
                return (String) entry.get("Action");
            }
        }
        return "RETRY";
    }

    private static boolean glob(Object pattern, String value) {
        return pattern == null || EventPattern.wildcard(String.valueOf(pattern), value == null ? "" : value);
    }

    @Test
    void batchRetriesLostHostsCheckpointedStopsAndTemporaryFailuresButNotApplicationErrors() {
        Map<String, Object> retry = map(T.properties("FinetuneJobDefinition").get("RetryStrategy"));
        assertTrue((Integer) retry.get("Attempts") >= 3, "spot reclaims may come more than once");
        assertTrue(list(retry.get("EvaluateOnExit")).size() <= 5, "AWS Batch takes at most 5 EvaluateOnExit entries");
        assertEquals("RETRY", batchAction("Host EC2 (instance i-0a1b2c3d4e5f67890) terminated.", null, null));
        // each exit status of the jar, with or without a Reason: retried exactly when ExitStatus says so
        for (ExitStatus status : ExitStatus.values()) {
            String expected = status.retried ? "RETRY" : "EXIT";
            String code = String.valueOf(status.code);
            assertEquals(expected, batchAction("Essential container in task exited", null, code), status.name());
            assertEquals(expected, batchAction("Essential container in task exited", "", code), status.name());
        }
        assertEquals("EXIT", batchAction("Essential container in task exited", "OutOfMemoryError: Container killed due to memory usage", "137"));
        assertEquals("EXIT", batchAction("Task failed to start", "CannotPullContainerError: pull image manifest has been retried", null));
    }

    @Test
    void theJobStopsItselfBeforeBatchsTimeoutWhichBatchWouldNotRetry() {
        assertEquals(Map.of("Ref", "FinetuneTimeoutSeconds"), map(T.properties("FinetuneJobDefinition").get("Timeout")).get("AttemptDurationSeconds"));
        assertEquals(T.resolve(Map.of("Ref", "FinetuneTimeoutSeconds")), jobEnvironment().get("GPT2CLS_FINETUNE_ATTEMPT_TIMEOUT"));
        long marginSeconds = java.time.Duration.parse("PT" + AppSettings.defaultOf(AppConfig.Finetune.class, "deadlineMargin").toUpperCase()).toSeconds();
        assertTrue((Integer) map(T.section("Parameters").get("FinetuneTimeoutSeconds")).get("MinValue") > marginSeconds,
                "every allowed timeout leaves time to train before the deadline");
    }

    @Test
    void theGpuInstancesKeepContainersFromTheInstanceRoleAndStopJobsWithinTheStopTimeout() {
        Map<String, Object> data = map(T.properties("FinetuneLaunchTemplate").get("LaunchTemplateData"));
        assertEquals(Map.of("HttpTokens", "required", "HttpPutResponseHopLimit", 1), data.get("MetadataOptions"));
        String userData = String.valueOf(map(data.get("UserData")).get("Fn::Base64"));
        assertTrue(userData.contains("ECS_CONTAINER_STOP_TIMEOUT=${FinetuneStopTimeoutSeconds}s"), userData);
        assertEquals("30", String.valueOf(map(T.section("Parameters").get("FinetuneStopTimeoutSeconds")).get("Default")));
    }

    @Test
    void onlyThisAccountsTasksAssumeTheJobRole() {
        Map<String, Object> trust = map(list(map(T.properties("FinetuneJobRole").get("AssumeRolePolicyDocument")).get("Statement")).get(0));
        assertEquals(Map.of("Service", "ecs-tasks.amazonaws.com"), trust.get("Principal"));
        assertEquals(Map.of("StringEquals", Map.of("aws:SourceAccount", Map.of("Ref", "AWS::AccountId"))), trust.get("Condition"));
    }

    /**
     * A Hub token reaches the job as HF_TOKEN (the name the application reads: {@code gpt2cls.hub.token})
     * from the secret the stack is given, through an execution role that may read that secret and
     * nothing else; without a secret, the job definition has neither.
     */
    @Test
    void aHubTokenSecretReachesTheJobAsHfTokenThroughARoleThatReadsOnlyIt() throws java.io.IOException {
        Map<String, Object> container = map(T.properties("FinetuneJobDefinition").get("ContainerProperties"));
        List<Object> secrets = list(map(container.get("Secrets")).get("Fn::If"));
        assertEquals("HasHfTokenSecret", secrets.get(0));
        assertEquals(List.of(Map.of("Name", "HF_TOKEN", "ValueFrom", Map.of("Ref", "HfTokenSecretArn"))), secrets.get(1));
        assertEquals(Map.of("Ref", "AWS::NoValue"), secrets.get(2));
        assertEquals(List.of("HasHfTokenSecret", Map.of("Fn::GetAtt", List.of("FinetuneExecutionRole", "Arn")), Map.of("Ref", "AWS::NoValue")),
                map(container.get("ExecutionRoleArn")).get("Fn::If"));
        assertEquals("HasHfTokenSecret", map(T.section("Resources").get("FinetuneExecutionRole")).get("Condition"));
        // as an execution role it may also pull the image and write logs (the ECS agent may use it for both)
        assertEquals(List.of(Map.of("Fn::Sub", "arn:${AWS::Partition}:iam::aws:policy/service-role/AmazonECSTaskExecutionRolePolicy")),
                T.properties("FinetuneExecutionRole").get("ManagedPolicyArns"));
        List<Object> policies = list(T.properties("FinetuneExecutionRole").get("Policies"));
        assertEquals(1, policies.size());
        assertEquals(List.of(Map.of("Sid", "ReadTheHubToken", "Effect", "Allow", "Action", "secretsmanager:GetSecretValue",
                "Resource", Map.of("Ref", "HfTokenSecretArn"))), map(map(policies.get(0)).get("PolicyDocument")).get("Statement"));
        Map<String, Object> trust = map(list(map(T.properties("FinetuneExecutionRole").get("AssumeRolePolicyDocument")).get("Statement")).get(0));
        assertEquals(Map.of("StringEquals", Map.of("aws:SourceAccount", Map.of("Ref", "AWS::AccountId"))), trust.get("Condition"));
        String properties = java.nio.file.Files.readString(java.nio.file.Path.of("src/main/resources/application.properties"));
        assertTrue(properties.contains("gpt2cls.hub.token=${HF_TOKEN:"), "the application reads HF_TOKEN");
    }

    @Test
    void jobsRunTheirImageByDigest() {
        List<Object> image = list(map(map(T.properties("FinetuneJobDefinition").get("ContainerProperties")).get("Image")).get("Fn::If"));
        assertEquals("BuildsFinetuneImage", image.get(0));
        List<Object> inStack = list(map(image.get(1)).get("Fn::If"));
        assertEquals(List.of("HasFinetuneImageDigest", Map.of("Fn::Sub", "${FinetuneRepository.RepositoryUri}@${FinetuneImageDigest}"),
                Map.of("Fn::Sub", "${FinetuneRepository.RepositoryUri}:latest")), inStack, "a tag only before the first push");
        assertEquals(Map.of("Ref", "FinetuneImageUri"), image.get(2));
        String digestPattern = (String) map(T.section("Parameters").get("FinetuneImageDigest")).get("AllowedPattern");
        assertTrue(("sha256:" + "a".repeat(64)).matches(digestPattern) && "".matches(digestPattern) && !"latest".matches(digestPattern));
        String uriPattern = (String) map(T.section("Parameters").get("FinetuneImageUri")).get("AllowedPattern");
        assertTrue(("123456789012.dkr.ecr.us-east-1.amazonaws.com/gpt2cls@sha256:" + "0".repeat(64)).matches(uriPattern));
        assertFalse("123456789012.dkr.ecr.us-east-1.amazonaws.com/gpt2cls:latest".matches(uriPattern));
    }

    @Test
    void subnetsWithoutSecurityGroupsAreRefusedBeforeAnythingIsCreated() {
        Map<String, Object> rule = map(T.section("Rules").get("SubnetsNeedSecurityGroups"));
        assertEquals(Map.of("Fn::Not", List.of(Map.of("Fn::EachMemberEquals", List.of(Map.of("Ref", "SubnetIds"), "")))),
                rule.get("RuleCondition"));
        assertEquals(Map.of("Fn::Not", List.of(Map.of("Fn::EachMemberEquals", List.of(Map.of("Ref", "SecurityGroupIds"), "")))),
                map(list(rule.get("Assertions")).get(0)).get("Assert"));
    }

    @Test
    void aPublicFunctionUrlMayAlsoInvokeTheFunction() {
        Map<String, Object> permission = T.properties("ClassifyFunctionUrlInvokePermission");
        assertEquals("ClassifyUrlIsPublic", T.resource("ClassifyFunctionUrlInvokePermission").get("Condition"));
        assertEquals("lambda:InvokeFunction", permission.get("Action"));
        assertEquals(true, permission.get("InvokedViaFunctionUrl"));
        assertEquals(Map.of("Ref", "ClassifyFunction.Alias"), permission.get("FunctionName"));
    }

    @Test
    void fineTuningRunsOnGpusThatScaleToZero() {
        Map<String, Object> resources = map(T.properties("FinetuneComputeEnvironment").get("ComputeResources"));
        assertEquals(0, resources.get("MinvCpus"));
        assertEquals(List.of("UsesSpot", "SPOT", "EC2"), map(resources.get("Type")).get("Fn::If"));
        assertEquals("g5,g6", map(T.section("Parameters").get("GpuInstanceTypes")).get("Default"));
        assertEquals(Map.of("Ref", "MaxvCpus"), resources.get("MaxvCpus"));
        assertEquals("ECS_AL2023_NVIDIA", map(list(resources.get("Ec2Configuration")).get(0)).get("ImageType"));
        Set<Object> requirements = new TreeSet<>();
        for (Object r : list(map(T.properties("FinetuneJobDefinition").get("ContainerProperties")).get("ResourceRequirements"))) {
            requirements.add(map(r).get("Type"));
        }
        assertEquals(Set.of("GPU", "VCPU", "MEMORY"), requirements);
        assertEquals(List.of("EC2"), T.properties("FinetuneJobDefinition").get("PlatformCapabilities"));
        assertNotNull(map(T.properties("FinetuneJobDefinition").get("Timeout")).get("AttemptDurationSeconds"));
        assertEquals(Map.of("Ref", "FinetuneComputeEnvironment"),
                map(list(T.properties("FinetuneJobQueue").get("ComputeEnvironmentOrder")).get(0)).get("ComputeEnvironment"));
    }

    // ---- batch classification -----------------------------------------------------------------------

    static Map<String, Object> state(String name) {
        return map(map(map(T.properties("BatchClassifyStateMachine").get("Definition")).get("States")).get(name));
    }

    @Test
    void bothReadersBatchItemsForClassifyAndWriteResultsUnderBatchResults() {
        Map<String, Object> jsonLines = state("ClassifyJsonLines");
        Map<String, Object> csv = state("ClassifyCsvRows");
        assertEquals(Map.of("InputType", "JSONL"), map(map(jsonLines.get("ItemReader")).get("ReaderConfig")));
        assertEquals(Map.of("InputType", "CSV", "CSVHeaderLocation", "FIRST_ROW"), map(map(csv.get("ItemReader")).get("ReaderConfig")));
        Map<String, Object> same = new LinkedHashMap<>(csv);
        Map<String, Object> reader = new LinkedHashMap<>(map(csv.get("ItemReader")));
        reader.put("ReaderConfig", map(jsonLines.get("ItemReader")).get("ReaderConfig"));
        same.put("ItemReader", reader);
        assertEquals(withoutStateNames(jsonLines), withoutStateNames(same), "the two Map states differ only in their ReaderConfig"
                + " and their states' names");

        assertEquals(Map.of("Mode", "DISTRIBUTED", "ExecutionType", "STANDARD"), map(map(jsonLines.get("ItemProcessor")).get("ProcessorConfig")));
        Map<String, Object> batcher = map(jsonLines.get("ItemBatcher"));
        assertEquals(Integer.valueOf(AppSettings.defaultOf(AppConfig.Classify.class, "maxTexts")), batcher.get("MaxItemsPerBatch"));
        assertTrue((Integer) batcher.get("MaxInputBytesPerBatch") < 256 * 1024, "Step Functions' payload limit");
        assertNotNull(jsonLines.get("ToleratedFailurePercentage"));
        Map<String, Object> writer = map(jsonLines.get("ResultWriter"));
        assertEquals(Map.of("Bucket", "${BucketName}", "Prefix", "batch/results"), writer.get("Parameters"));
        assertEquals(Map.of("OutputType", "JSONL", "Transformation", "FLATTEN"), writer.get("WriterConfig"));
    }

    /** Every state's name in a definition, the nested ones (a Map's ItemProcessor, a Parallel's Branches) included. */
    static List<String> stateNames(Object definition) {
        List<String> names = new ArrayList<>();
        if (definition instanceof Map<?, ?> m && m.get("States") instanceof Map<?, ?> states) {
            for (Map.Entry<?, ?> state : states.entrySet()) {
                names.add((String) state.getKey());
                Map<String, Object> body = map(state.getValue());
                names.addAll(stateNames(body.get("ItemProcessor")));
                names.addAll(stateNames(body.get("Iterator")));
                for (Object branch : body.containsKey("Branches") ? list(body.get("Branches")) : List.of()) {
                    names.addAll(stateNames(branch));
                }
            }
        }
        return names;
    }

    /** Names that occur more than once; Amazon States Language wants every name unique in the whole machine. */
    static Set<String> duplicateStateNames(Object definition) {
        Set<String> seen = new TreeSet<>();
        Set<String> duplicates = new TreeSet<>();
        stateNames(definition).forEach(name -> (seen.add(name) ? seen : duplicates).add(name));
        return duplicates;
    }

    /** The same structure with each state named by its position ("state 0", ...), transitions following. */
    static Object withoutStateNames(Object definition) {
        Map<String, String> positions = new LinkedHashMap<>();
        for (String name : stateNames(Map.of("States", Map.of("", definition)))) {
            positions.putIfAbsent(name, "state " + positions.size());
        }
        return renamed(definition, positions, false);
    }

    private static Object renamed(Object value, Map<String, String> names, boolean keysAreStates) {
        if (value instanceof Map<?, ?> m) {
            Map<String, Object> copy = new LinkedHashMap<>();
            m.forEach((key, v) -> {
                String k = (String) key;
                boolean transition = k.equals("StartAt") || k.equals("Next") || k.equals("Default");
                copy.put(keysAreStates ? names.getOrDefault(k, k) : k,
                        transition ? names.getOrDefault(String.valueOf(v), String.valueOf(v)) : renamed(v, names, k.equals("States")));
            });
            return copy;
        }
        if (value instanceof List<?> l) {
            return l.stream().map(v -> renamed(v, names, false)).toList();
        }
        return value;
    }

    @Test
    void everyStateMachineNamesEachStateOnce() {
        List<String> machines = new ArrayList<>(T.resourcesOfType("AWS::Serverless::StateMachine"));
        machines.addAll(T.resourcesOfType("AWS::StepFunctions::StateMachine"));
        assertFalse(machines.isEmpty());
        for (String machine : machines) {
            // an inline Definition; one in a file or string is left to infra/asl/check.sh, which reads those too
            assertEquals(Set.of(), duplicateStateNames(T.properties(machine).get("Definition")), machine);
        }
        // the check finds what it is for: the nested states of both Map states named alike, as before
        Map<String, Object> definition = map(T.properties("BatchClassifyStateMachine").get("Definition"));
        Map<String, Object> states = new LinkedHashMap<>(map(definition.get("States")));
        Map<String, Object> csv = new LinkedHashMap<>(map(states.get("ClassifyCsvRows")));
        csv.put("ItemProcessor", state("ClassifyJsonLines").get("ItemProcessor"));
        states.put("ClassifyCsvRows", csv);
        Map<String, Object> broken = new LinkedHashMap<>(definition);
        broken.put("States", states);
        assertEquals(new TreeSet<>(stateNames(map(state("ClassifyJsonLines").get("ItemProcessor")))), duplicateStateNames(broken));
    }

    @Test
    void classifyIsCalledWithTheBatchAndRetriedOnLambdaServiceErrors() {
        Map<String, Object> processor = map(state("ClassifyJsonLines").get("ItemProcessor"));
        Map<String, Object> states = map(processor.get("States"));
        Map<String, Object> classify = map(states.get(processor.get("StartAt")));
        assertEquals("arn:aws:states:::lambda:invoke", classify.get("Resource"));
        assertEquals(Map.of("FunctionName", "${ClassifyFunctionAlias}", "Payload.$", "$"), classify.get("Parameters"));
        Set<Object> retried = new TreeSet<>();
        for (Object retrier : list(classify.get("Retry"))) {
            retried.addAll(list(map(retrier).get("ErrorEquals")));
        }
        assertTrue(retried.containsAll(Set.of("Lambda.ServiceException", "Lambda.AWSLambdaException", "Lambda.SdkClientException",
                "Lambda.TooManyRequestsException")), retried.toString());
        // classify answers a bad batch with {"error": {...}} (not an exception): the batch fails, and counts
        // against ToleratedFailurePercentage, with classify's own message
        Map<String, Object> check = map(states.get(classify.get("Next")));
        Map<String, Object> onError = map(list(check.get("Choices")).get(0));
        assertEquals("$.answer.error", onError.get("Variable"));
        Map<String, Object> refused = map(states.get(onError.get("Next")));
        assertEquals("Fail", refused.get("Type"));
        assertEquals("$.answer.error.message", refused.get("CausePath"));
        assertEquals("$.answer.results", map(states.get(check.get("Default"))).get("OutputPath"));
    }

    // ---- storage, logs, outputs ---------------------------------------------------------------------

    @Test
    void theBucketIsPrivateEncryptedVersionedAndAnnouncesUploads() {
        Map<String, Object> bucket = T.properties("DataBucket");
        assertEquals(Map.of("BlockPublicAcls", true, "BlockPublicPolicy", true, "IgnorePublicAcls", true, "RestrictPublicBuckets", true),
                bucket.get("PublicAccessBlockConfiguration"));
        assertNotNull(map(map(list(map(bucket.get("BucketEncryption")).get("ServerSideEncryptionConfiguration")).get(0))
                .get("ServerSideEncryptionByDefault")).get("SSEAlgorithm"));
        assertEquals(Map.of("Status", "Enabled"), bucket.get("VersioningConfiguration"));
        assertEquals(Map.of("EventBridgeConfiguration", Map.of("EventBridgeEnabled", true)), bucket.get("NotificationConfiguration"));
        List<Object> rules = list(map(bucket.get("LifecycleConfiguration")).get("Rules"));
        assertTrue(rules.stream().anyMatch(r -> map(r).containsKey("NoncurrentVersionExpiration")));
        assertTrue(rules.stream().anyMatch(r -> map(r).containsKey("AbortIncompleteMultipartUpload")));
        // what distributed prepare runs leave (PrepareService.runLocation: a failed run's plan and map results) expires
        assertTrue(rules.stream().anyMatch(r -> "prepare-runs/".equals(map(r).get("Prefix"))
                && Map.of("Ref", "PrepareRunDays").equals(map(r).get("ExpirationInDays"))), "a rule expires prepare-runs/");
        assertEquals("Retain", T.resource("DataBucket").get("DeletionPolicy"));
    }

    @Test
    void everyFunctionJobAndStateMachineLogsToAGroupWithRetention() {
        for (String function : T.resourcesOfType("AWS::Serverless::Function")) {
            String name = (String) T.resolve(T.properties(function).get("FunctionName"));
            String group = (String) T.resource(function).get("DependsOn");
            assertEquals("/aws/lambda/" + name, T.resolve(T.properties(group).get("LogGroupName")), function);
        }
        Map<String, Object> logging = map(map(T.properties("FinetuneJobDefinition").get("ContainerProperties")).get("LogConfiguration"));
        assertEquals(Map.of("Ref", "FinetuneLogGroup"), map(logging.get("Options")).get("awslogs-group"));
        assertEquals(List.of("BatchClassifyLogGroup", "Arn"), map(map(map(list(map(T.properties("BatchClassifyStateMachine").get("Logging"))
                .get("Destinations")).get(0)).get("CloudWatchLogsLogGroup")).get("LogGroupArn")).get("Fn::GetAtt"));
        for (String group : T.resourcesOfType("AWS::Logs::LogGroup")) {
            assertEquals(Map.of("Ref", "LogRetentionDays"), T.properties(group).get("RetentionInDays"), group);
        }
        assertEquals(List.of("PrepareStateMachineLogGroup", "Arn"), map(map(map(list(map(T.properties("PrepareStateMachine").get("Logging"))
                .get("Destinations")).get(0)).get("CloudWatchLogsLogGroup")).get("LogGroupArn")).get("Fn::GetAtt"));
        assertEquals(8, T.resourcesOfType("AWS::Logs::LogGroup").size());
    }

    @Test
    void theOutputsNameWhatAUserCalls() {
        assertEquals(Set.of("DataBucketName", "PrepareFunctionArn", "ClassifyFunctionArn", "ClassifyFunctionAlias", "ClassifyUrl",
                "FinetuneJobQueueArn", "FinetuneJobDefinitionArn", "FinetuneRepositoryUri", "BatchClassifyStateMachineArn",
                "FailureTopicArn", "PrepareFailedEventsUrl", "FinetuneSubmitFailedEventsUrl", "PrepareStateMachineArn"),
                T.section("Outputs").keySet());
    }
}

package io.gpt2cls.function;

import java.io.IOException;
import java.io.InputStream;
import java.net.URLDecoder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Optional;

import com.fasterxml.jackson.databind.JsonNode;

import io.gpt2cls.storage.ArtifactNotFoundException;
import io.gpt2cls.storage.ArtifactStore;
import io.gpt2cls.storage.Location;

/**
 * {@code prepare} started by an upload: the S3 notification that Lambda delivers
 * ({@code Records[].s3}) or EventBridge's "Object Created" event. Which upload prepares what:
 *
 * <ul>
 *   <li>A settings file {@code <dir>/<name>.prepare.json} (a prepare request; its locations may be
 *       relative to {@code <dir>}) runs that request. Upload it last, after the data: this is how
 *       to prepare part files or a test file uploaded after the training file.</li>
 *   <li>A training file {@code raw/<dataset>/train.<ext>} runs its sidecar {@code train.prepare.json}
 *       when there is one, else the convention: test = {@code raw/<dataset>/test.<ext>} if present
 *       (else a stratified split), output = {@code prepared/<dataset>/}, defaults for the rest.</li>
 *   <li>Any other upload is skipped, with the reason in the response (S3 notifies every object).</li>
 * </ul>
 */
final class PrepareTrigger {

    static final String SETTINGS_SUFFIX = ".prepare.json";
    static final String RAW = "raw";
    static final String PREPARED = "prepared";

    /** An object that was created, as the event names it. */
    record ObjectCreated(String bucket, String key) {
        Location location() {
            return Location.parse("s3://" + bucket + "/" + key);
        }
    }

    private PrepareTrigger() {}

    /** The objects an S3 or EventBridge event announces, or empty when the JSON is not such an event. */
    static List<ObjectCreated> objectsCreated(JsonNode event) {
        List<ObjectCreated> objects = new ArrayList<>();
        if (event.path("Records").isArray()) {
            for (JsonNode record : event.path("Records")) {
                if (!"aws:s3".equals(record.path("eventSource").asText()) || !record.path("eventName").asText().startsWith("ObjectCreated")) {
                    continue;
                }
                // S3 notifications URL-encode keys ("my data/x" arrives as "my+data/x")
                String key = URLDecoder.decode(record.path("s3").path("object").path("key").asText(), StandardCharsets.UTF_8);
                objects.add(new ObjectCreated(record.path("s3").path("bucket").path("name").asText(), key));
            }
        } else if ("aws.s3".equals(event.path("source").asText()) && "Object Created".equals(event.path("detail-type").asText())) {
            JsonNode detail = event.path("detail");
            objects.add(new ObjectCreated(detail.path("bucket").path("name").asText(), detail.path("object").path("key").asText()));
        }
        return objects;
    }

    static boolean isEvent(JsonNode tree) {
        return tree.has("Records") || ("aws.s3".equals(tree.path("source").asText()) && tree.has("detail-type"));
    }

    /** The request an upload stands for, or a reason it stands for none. */
    record Resolution(PrepareRequest request, String skipped) {}

    static Resolution resolve(ObjectCreated object, ArtifactStore store) throws IOException {
        Location created = object.location();
        String name = created.name();
        Location dir = parentOf(object);
        if (name.endsWith(SETTINGS_SUFFIX)) {
            // <stem>.prepare.json without 'train' prepares <stem>.<ext> beside it: the same request as that file's upload
            // resolves to, so the two uploads (and their events) make one dataset
            String dataStem = stem(name);
            Location data = store.listFiles(dir).stream()
                    .filter(file -> !file.name().endsWith(SETTINGS_SUFFIX) && stem(file.name()).equals(dataStem))
                    .findFirst().orElse(null);
            return new Resolution(settings(created, dir, store, data), null);
        }
        String stem = stem(name);
        String[] parts = object.key().split("/");
        boolean conventional = parts.length == 3 && parts[0].equals(RAW) && stem.equals("train");
        if (!conventional) {
            return new Resolution(null, object.key() + " is neither a training file (raw/<dataset>/train.<ext>) nor a settings"
                    + " file (<name>" + SETTINGS_SUFFIX + "); nothing to prepare");
        }
        Location sidecar = dir.resolve(stem + SETTINGS_SUFFIX);
        if (!store.listFiles(dir).contains(sidecar)) {
            return new Resolution(conventional(created, dir, parts[1], store), null);
        }
        return new Resolution(settings(sidecar, dir, store, created), null);
    }

    /** raw/<dataset>/train.<ext> -> prepared/<dataset>/, with raw/<dataset>/test.<ext> when it is there. */
    private static PrepareRequest conventional(Location train, Location dir, String dataset, ArtifactStore store) throws IOException {
        PrepareRequest request = new PrepareRequest();
        request.train = train.toString();
        request.output = bucketRoot(train).resolve(PREPARED + "/" + dataset).toString();
        Optional<Location> test = store.listFiles(dir).stream().filter(file -> stem(file.name()).equals("test")).findFirst();
        test.ifPresent(location -> request.test = location.toString());
        return request;
    }

    /** A settings file is a prepare request; relative locations in it are relative to its directory. */
    private static PrepareRequest settings(Location file, Location dir, ArtifactStore store, Location train) throws IOException {
        PrepareRequest request;
        Path fetched = null;
        try {
            fetched = store.fetchFile(file);
            try (InputStream in = Files.newInputStream(fetched)) {
                request = RequestParser.parse(in, PrepareRequest.class);
            }
        } catch (InvalidRequestException e) {
            throw new InvalidRequestException(e.field(), file + ": " + e.getMessage());
        } catch (ArtifactNotFoundException e) {
            throw new ArtifactNotFoundException(file + " was announced by the event but is gone: " + e.getMessage());
        } finally {
            if (fetched != null) {
                store.release(fetched); // read once: the download goes
            }
        }
        if (request.train == null && train != null) {
            request.train = train.toString();
        }
        request.train = relativeTo(dir, request.train);
        request.test = relativeTo(dir, request.test);
        request.tokenizer = relativeTo(dir, request.tokenizer);
        String[] parts = dir.key().split("/");
        if (request.output == null && parts.length == 2 && parts[0].equals(RAW)) {
            request.output = bucketRoot(file).resolve(PREPARED + "/" + parts[1]).toString();
        }
        request.output = relativeTo(dir, request.output);
        StrictRequest.requireField(request.output, "output", file + " must name the output (convention: raw/<dataset>/ -> prepared/<dataset>/)");
        return request;
    }

    private static String relativeTo(Location dir, String location) {
        if (location == null || location.contains("://") || location.startsWith("/")) {
            return location;
        }
        return dir.resolve(location).toString();
    }

    /** A file's name up to its first dot: {@code train} for train.jsonl.gz. */
    static String stem(String name) {
        int dot = name.indexOf('.');
        return (dot < 0 ? name : name.substring(0, dot)).toLowerCase(Locale.ROOT);
    }

    private static Location parentOf(ObjectCreated object) {
        int slash = object.key().lastIndexOf('/');
        return slash < 0 ? Location.parse("s3://" + object.bucket()) : Location.parse("s3://" + object.bucket() + "/" + object.key().substring(0, slash));
    }

    private static Location bucketRoot(Location location) {
        return Location.parse("s3://" + location.bucket());
    }
}

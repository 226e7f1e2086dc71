package io.gpt2cls.dataset;

import java.io.IOException;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CharsetDecoder;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import java.util.stream.Collectors;

import org.apache.parquet.ParquetReadOptions;
import org.apache.parquet.column.page.PageReadStore;
import org.apache.parquet.conf.PlainParquetConfiguration;
import org.apache.parquet.hadoop.ParquetFileReader;
import org.apache.parquet.hadoop.metadata.BlockMetaData;
import org.apache.parquet.hadoop.metadata.ColumnChunkMetaData;
import org.apache.parquet.hadoop.metadata.ColumnPath;
import org.apache.parquet.hadoop.metadata.ParquetMetadata;
import org.apache.parquet.io.ColumnIOFactory;
import org.apache.parquet.io.LocalInputFile;
import org.apache.parquet.io.MessageColumnIO;
import org.apache.parquet.io.RecordReader;
import org.apache.parquet.io.api.Binary;
import org.apache.parquet.io.api.Converter;
import org.apache.parquet.io.api.GroupConverter;
import org.apache.parquet.io.api.PrimitiveConverter;
import org.apache.parquet.io.api.RecordMaterializer;
import org.apache.parquet.schema.LogicalTypeAnnotation;
import org.apache.parquet.schema.MessageType;
import org.apache.parquet.schema.PrimitiveType;
import org.apache.parquet.schema.Type;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.NullNode;
import com.fasterxml.jackson.databind.node.ObjectNode;

/**
 * Parquet (as Hugging Face Hub datasets publish them: a string {@code text} and an int64 {@code label}),
 * one row group in memory at a time and only the columns asked for. Values become what a JSON Lines
 * row would hold (strings, integers, decimals, booleans, nulls), so the same rules accept or reject
 * them; rows are located by record number. A file that cannot be read, or whose columns are lists or
 * structs, stops the job.
 */
final class ParquetRowReader implements RowReader {

    private static final JsonNodeFactory NODES = JsonNodeFactory.instance;
    /** Compressed bytes of the columns read in one row group (pyarrow writes up to 1M rows, typically 10-130 MB). */
    static final long MAX_ROW_GROUP_BYTES = 512L * 1024 * 1024;
    /** Longest string value decoded: a text at its limit of 1M characters in UTF-8 (at most 4 bytes each). */
    static final int MAX_VALUE_BYTES = 4 * RowValidator.MAX_TEXT_CHARS;

    private final long maxRowGroupBytes;
    private long groupsToSkip;
    private long groupsLeft;

    private final String location;
    private final ParquetFileReader reader;
    private final List<String> header = new ArrayList<>();
    private final MessageColumnIO columns;
    private final RowMaterializer rows;
    private RecordReader<ObjectNode> rowGroup;
    private long rowsLeftInGroup;
    private long record;

    ParquetRowReader(InputFile file, List<String> wanted, long maxRowGroupBytes) throws IOException {
        this(file, wanted, maxRowGroupBytes, 0, PrepareTask.WHOLE);
    }

    /** Row groups {@code [firstGroup, endGroup)} ({@code endGroup} {@link PrepareTask#WHOLE}: to the last), records numbered from the first. */
    ParquetRowReader(InputFile file, List<String> wanted, long maxRowGroupBytes, long firstGroup, long endGroup)
            throws IOException {
        this.location = file.location();
        this.maxRowGroupBytes = maxRowGroupBytes;
        this.groupsToSkip = firstGroup;
        this.groupsLeft = endGroup == PrepareTask.WHOLE ? Long.MAX_VALUE : endGroup - firstGroup;
        ParquetReadOptions options = ParquetReadOptions.builder(new PlainParquetConfiguration())
                .withCodecFactory(new ParquetCodecs())
                .usePageChecksumVerification(true)
                .build();
        LocalInputFile input = new LocalInputFile(file.path());
        try {
            this.reader = ParquetFileReader.open(input, options);
        } catch (IOException | RuntimeException e) {
            String detail = String.valueOf(e.getMessage()).replace(input.toString(), "the file");
            throw new DatasetException(location + " is not a readable Parquet file (" + detail + "); it may be"
                    + " truncated: upload it again, or export it again (pandas to_parquet, datasets to_parquet)");
        }
        try {
            MessageType schema = reader.getFooter().getFileMetaData().getSchema();
            schema.getFields().forEach(column -> header.add(column.getName()));
            MessageType projection = projection(schema, wanted);
            projection.getFields().forEach(this::requireReadable);
            requireReadableCodecs();
            requireBoundedRowGroups(projection);
            if (projection.getFieldCount() == 0) {
                // none of the columns asked for: the caller reports that from header()
                this.columns = null;
                this.rows = null;
            } else {
                reader.setRequestedSchema(projection);
                this.columns = new ColumnIOFactory().getColumnIO(projection, schema);
                this.rows = new RowMaterializer(projection);
            }
        } catch (RuntimeException e) {
            reader.close();
            throw e;
        }
    }

    private void requireReadable(Type column) {
        String what = "column '" + column.getName() + "' of " + location;
        if (!column.isPrimitive() || column.isRepetition(Type.Repetition.REPEATED)) {
            throw new DatasetException(what + " is a list or struct; prepare reads plain string or integer columns");
        }
        PrimitiveType primitive = column.asPrimitiveType();
        LogicalTypeAnnotation logical = primitive.getLogicalTypeAnnotation();
        boolean readable = switch (primitive.getPrimitiveTypeName()) {
            case BINARY -> logical == null || logical instanceof LogicalTypeAnnotation.StringLogicalTypeAnnotation
                    || logical instanceof LogicalTypeAnnotation.EnumLogicalTypeAnnotation
                    || logical instanceof LogicalTypeAnnotation.JsonLogicalTypeAnnotation;
            case INT32, INT64 -> logical == null || logical instanceof LogicalTypeAnnotation.IntLogicalTypeAnnotation;
            case BOOLEAN, FLOAT, DOUBLE -> true;
            default -> false;
        };
        if (!readable) {
            throw new DatasetException(what + " has type " + primitive.getPrimitiveTypeName()
                    + (logical == null ? "" : " (" + logical + ")") + "; prepare reads strings and integers"
                    + " (and reports decimals, booleans and nulls as rejected rows)");
        }
    }

    private void requireReadableCodecs() {
        for (BlockMetaData block : reader.getFooter().getBlocks()) {
            for (ColumnChunkMetaData chunk : block.getColumns()) {
                if (!ParquetCodecs.READABLE.contains(chunk.getCodec())) {
                    throw new DatasetException(location + " is compressed with " + chunk.getCodec() + ", which prepare does"
                            + " not read; write it with snappy (the usual default), zstd, gzip or no compression");
                }
            }
        }
    }

    /**
     * The reader holds a row group's column chunks (of the columns read) in memory: each must fit in
     * {@link #MAX_ROW_GROUP_BYTES}, checked from the footer before any is read.
     */
    private void requireBoundedRowGroups(MessageType projection) {
        List<BlockMetaData> blocks = reader.getFooter().getBlocks();
        for (int group = 0; group < blocks.size(); group++) {
            long bytes = 0;
            for (ColumnChunkMetaData chunk : chunksRead(blocks.get(group), projection)) {
                if (chunk.getTotalSize() < 0) {
                    throw new DatasetException(location + " is corrupt: row group " + group + " declares a column of "
                            + chunk.getTotalSize() + " bytes; upload it again, or export it again");
                }
                bytes += chunk.getTotalSize();
            }
            if (bytes > maxRowGroupBytes) {
                throw new DatasetException(location + ": row group " + group + " holds " + bytes + " bytes of the columns"
                        + " read, more than the " + maxRowGroupBytes + " prepare reads at once; write the file with smaller"
                        + " row groups (pyarrow: row_group_size=100_000; pandas to_parquet(row_group_size=...))");
            }
        }
    }

    @Override
    public SourceRow next() {
        if (columns == null) {
            return null;
        }
        try {
            for (; groupsToSkip > 0; groupsToSkip--) {
                reader.skipNextRowGroup();
            }
            while (rowsLeftInGroup == 0) {
                if (groupsLeft == 0) {
                    return null;
                }
                groupsLeft--;
                PageReadStore pages = reader.readNextRowGroup();
                if (pages == null) {
                    return null;
                }
                rowGroup = columns.getRecordReader(pages, rows);
                rowsLeftInGroup = pages.getRowCount();
            }
            ObjectNode value = rowGroup.read();
            rowsLeftInGroup--;
            record++;
            RowLocation where = RowLocation.ofRow(location, record);
            if (rows.tooLong != null) {
                return SourceRow.unreadable(where, "column '" + rows.tooLong + "' holds " + rows.tooLongBytes
                        + " bytes, more than the " + MAX_VALUE_BYTES + " a text may have");
            }
            return rows.notUtf8 != null
                    ? SourceRow.unreadable(where, "column '" + rows.notUtf8 + "' holds bytes that are not UTF-8")
                    : SourceRow.parsed(where, value);
        } catch (IOException | RuntimeException e) {
            throw new DatasetException(location + " is corrupt: record " + (record + 1) + " and after cannot be read ("
                    + causes(e) + "); upload it again, or export it again");
        }
    }

    /** The exception's message and its causes' ("could not decompress page: a page's header says ..."). */
    private static String causes(Throwable e) {
        StringBuilder out = new StringBuilder(String.valueOf(e.getMessage()));
        for (Throwable cause = e.getCause(); cause != null && cause != cause.getCause(); cause = cause.getCause()) {
            if (cause.getMessage() != null && !out.toString().contains(cause.getMessage())) {
                out.append(": ").append(cause.getMessage());
            }
        }
        return out.toString();
    }

    @Override
    public Optional<List<String>> header() {
        return Optional.of(header);
    }

    @Override
    public Collection<String> columns() {
        return header;
    }

    @Override
    public long position() {
        return record;
    }

    /** The file's footer (its schema and row groups), read through {@code bytes}: the footer's bytes, not the whole file. */
    static ParquetMetadata footer(InputFile file, InputBytes bytes) throws IOException {
        try (ParquetFileReader footer = ParquetFileReader.open(new RangedParquetFile(file, bytes),
                ParquetReadOptions.builder(new PlainParquetConfiguration()).build())) {
            return footer.getFooter();
        }
    }

    /**
     * The columns a reader of {@code wanted} reads: the file's top-level columns of those names, in the
     * file's order (empty when it has none of them).
     */
    static MessageType projection(MessageType schema, Collection<String> wanted) {
        return new MessageType(schema.getName(),
                schema.getFields().stream().filter(column -> wanted.contains(column.getName())).toList());
    }

    /**
     * The column chunks of {@code group} that a reader of {@code projection} reads, picked as
     * {@link ParquetFileReader#readNextRowGroup} picks them once the projection is requested: by the
     * paths of its leaf columns. A range task fetches these ({@link PrepareTask#bytesRead}), and no other.
     */
    static List<ColumnChunkMetaData> chunksRead(BlockMetaData group, MessageType projection) {
        Set<ColumnPath> paths = projection.getColumns().stream()
                .map(column -> ColumnPath.get(column.getPath()))
                .collect(Collectors.toSet());
        return group.getColumns().stream().filter(chunk -> paths.contains(chunk.getPath())).toList();
    }

    @Override
    public void close() throws IOException {
        reader.close();
    }

    /** Builds each row as a JSON object of the projected columns; a column without a value is null. */
    private static final class RowMaterializer extends RecordMaterializer<ObjectNode> {

        private final List<String> names = new ArrayList<>();
        private final JsonNode[] values;
        private final CharsetDecoder utf8 = StandardCharsets.UTF_8.newDecoder()
                .onMalformedInput(CodingErrorAction.REPORT)
                .onUnmappableCharacter(CodingErrorAction.REPORT);
        /** The column of the current row that held a string that is not UTF-8, if any. */
        String notUtf8;
        /** The column of the current row whose value was too long to decode, if any, and its length. */
        String tooLong;
        int tooLongBytes;
        private final GroupConverter root;

        RowMaterializer(MessageType projection) {
            projection.getFields().forEach(field -> names.add(field.getName()));
            values = new JsonNode[names.size()];
            Converter[] converters = new Converter[names.size()];
            for (int i = 0; i < converters.length; i++) {
                converters[i] = new ValueConverter(i);
            }
            root = new GroupConverter() {
                @Override
                public Converter getConverter(int field) {
                    return converters[field];
                }

                @Override
                public void start() {
                    java.util.Arrays.fill(values, NullNode.getInstance());
                    notUtf8 = null;
                    tooLong = null;
                }

                @Override
                public void end() {
                    // the row is complete: getCurrentRecord builds it
                }
            };
        }

        @Override
        public ObjectNode getCurrentRecord() {
            ObjectNode row = NODES.objectNode();
            for (int i = 0; i < values.length; i++) {
                row.set(names.get(i), values[i]);
            }
            return row;
        }

        @Override
        public GroupConverter getRootConverter() {
            return root;
        }

        private final class ValueConverter extends PrimitiveConverter {
            private final int field;

            ValueConverter(int field) {
                this.field = field;
            }

            @Override
            public void addBinary(Binary value) {
                if (value.length() > MAX_VALUE_BYTES) {
                    tooLong = names.get(field);
                    tooLongBytes = value.length();
                    return;
                }
                try {
                    values[field] = NODES.textNode(utf8.decode(value.toByteBuffer()).toString());
                } catch (CharacterCodingException e) {
                    notUtf8 = names.get(field);
                }
            }

            @Override
            public void addInt(int value) {
                values[field] = NODES.numberNode(value);
            }

            @Override
            public void addLong(long value) {
                values[field] = NODES.numberNode(value);
            }

            @Override
            public void addBoolean(boolean value) {
                values[field] = NODES.booleanNode(value);
            }

            @Override
            public void addFloat(float value) {
                values[field] = NODES.numberNode(value);
            }

            @Override
            public void addDouble(double value) {
                values[field] = NODES.numberNode(value);
            }
        }
    }
}

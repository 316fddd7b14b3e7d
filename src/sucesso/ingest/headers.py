"""The names a file may give the canonical tables and columns.

A column is named by its canonical name in any spelling (`Account ID`, `account-id`), or by the
Portuguese header the spreadsheet template writes (`ID da conta`); a table (a sheet of the
template) by its name or its Portuguese one (`contas`). The importer reads them all; the
template (`ingest.template`) writes them.
"""

from __future__ import annotations

from sucesso.ingest.parse import normalise_name
from sucesso.store.schema import Table

PORTUGUESE_TABLES = {
    "csms": "csms", "accounts": "contas", "contacts": "contatos", "subscriptions": "assinaturas",
    "invoices": "faturas", "usage_events": "eventos_de_uso", "features": "funcionalidades",
    "milestones": "marcos", "tickets": "chamados", "survey_responses": "respostas_de_pesquisa",
    "cs_activities": "atividades_de_cs", "churn_requests": "pedidos_de_cancelamento",
    "acquisition_spend": "gastos_de_aquisicao", "referrals": "indicacoes", "targets": "metas",
}

# Column → its Portuguese header; "table.column" where a table names it otherwise.
PORTUGUESE_COLUMNS = {
    "account_id": "ID da conta", "contact_id": "ID do contato", "csm_id": "ID do CSM", "name": "Nome",
    "email": "E-mail", "created_at": "Criado em", "plan": "Plano", "currency": "Moeda", "amount": "Valor",
    "category": "Categoria", "event": "Evento", "occurred_at": "Ocorrido em", "milestone": "Marco",
    "channel": "Canal",
    "csms.role": "Função", "active": "Ativo",
    "segment": "Segmento", "touch_model": "Modelo de atendimento", "accounts.created_at": "Criada em",
    "country": "País", "industry": "Setor", "seats": "Licenças", "attributes": "Atributos",
    "contacts.role": "Cargo",
    "subscription_id": "ID da assinatura", "mrr": "MRR", "quantity": "Quantidade", "started_at": "Início",
    "ended_at": "Fim",
    "invoice_id": "ID da fatura", "issued_at": "Emitida em", "due_at": "Vencimento", "paid_at": "Paga em",
    "status": "Situação",
    "event_id": "ID do evento", "properties": "Propriedades",
    "is_key": "É chave",
    "reached_at": "Atingido em",
    "ticket_id": "ID do chamado", "opened_at": "Aberto em", "first_response_at": "Primeira resposta em",
    "resolved_at": "Resolvido em", "contacts_to_resolve": "Contatos até resolver", "priority": "Prioridade",
    "response_id": "ID da resposta", "survey": "Pesquisa", "score": "Nota", "scale_min": "Escala mínima",
    "scale_max": "Escala máxima", "comment": "Comentário", "touchpoint": "Ponto de contato",
    "answered_at": "Respondida em",
    "activity_id": "ID da atividade", "kind": "Tipo", "notes": "Notas",
    "request_id": "ID do pedido", "requested_at": "Pedido em", "reason_code": "Motivo",
    "reason_detail": "Detalhe do motivo", "voluntary": "Voluntário", "outcome": "Desfecho",
    "decided_at": "Decidido em",
    "month": "Mês",
    "referral_id": "ID da indicação", "referred_account_id": "ID da conta indicada",
    "kpi": "KPI", "period_start": "Início do período", "period_end": "Fim do período", "target": "Meta",
    "direction": "Direção",
}


def header(table: Table, column: str, language: str) -> str:
    """What the template writes atop `column` of `table` in `language` (en: the canonical name)."""
    if language != "pt_BR":
        return column
    return PORTUGUESE_COLUMNS.get(f"{table.name}.{column}", PORTUGUESE_COLUMNS.get(column, column))


def sheet_name(table: Table, language: str) -> str:
    return PORTUGUESE_TABLES.get(table.name, table.name) if language == "pt_BR" else table.name


def canonical_name(table: Table, name: str) -> str:
    """The column of `table` that a header names, as normalise_name spells it; a header naming
    none is returned normalised (it becomes an extra column, or is ignored)."""
    plain = normalise_name(name)
    if plain in table.column_names:
        return plain
    return next((c for c in table.column_names if normalise_name(header(table, c, "pt_BR")) == plain), plain)


def table_named_by(sheet: str, tables: tuple[Table, ...]) -> Table | None:
    """The table a sheet's name names (`accounts`, `Contas`), if any."""
    plain = normalise_name(sheet)
    return next((t for t in tables if plain in (t.name, normalise_name(sheet_name(t, "pt_BR")))), None)

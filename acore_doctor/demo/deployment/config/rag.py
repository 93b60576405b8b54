"""Retrieval (RAG) and user profiles (demo copy of acore_bot's config/rag.py)."""

from __future__ import annotations

from pathlib import Path

from .base import BaseConfig


class RAGConfig(BaseConfig):
    """Retrieval (RAG) and user profiles."""

    RAG_ENABLED: bool = BaseConfig._get_env_bool("RAG_ENABLED", False)
    RAG_MODE: str = BaseConfig._get_env("RAG_MODE", "simple")
    RAG_VECTOR_STORE: Path = BaseConfig._get_env_path("RAG_VECTOR_STORE", "./data/vector_store")
    RAG_DOCUMENTS_PATH: Path = BaseConfig._get_env_path("RAG_DOCUMENTS_PATH", "./data/documents")
    RAG_TOP_K: int = BaseConfig._get_env_int("RAG_TOP_K", 3)
    RAG_IN_CHAT: bool = BaseConfig._get_env_bool("RAG_IN_CHAT", True)
    RAG_RELEVANCE_THRESHOLD: float = BaseConfig._get_env_float("RAG_RELEVANCE_THRESHOLD", 0.5)
    RAG_HYBRID_SEARCH_ENABLED: bool = BaseConfig._get_env_bool("RAG_HYBRID_SEARCH_ENABLED", True)
    RAG_KEYWORD_WEIGHT: float = BaseConfig._get_env_float("RAG_KEYWORD_WEIGHT", 0.3)
    # Read a second time for reciprocal rank fusion, with its own default.
    RAG_KEYWORD_WEIGHT_RRF: float = BaseConfig._get_env_float("RAG_KEYWORD_WEIGHT", 0.5)
    RAG_SEMANTIC_WEIGHT: float = BaseConfig._get_env_float("RAG_SEMANTIC_WEIGHT", 0.7)
    RAG_KEYWORD_MATCH_THRESHOLD: float = BaseConfig._get_env_float(
        "RAG_KEYWORD_MATCH_THRESHOLD", 0.5
    )
    RAG_BM25_ENABLED: bool = BaseConfig._get_env_bool("RAG_BM25_ENABLED", True)
    RAG_BM25_K1: float = BaseConfig._get_env_float("RAG_BM25_K1", 1.2)
    RAG_BM25_B: float = BaseConfig._get_env_float("RAG_BM25_B", 0.75)
    RAG_RRF_K: int = BaseConfig._get_env_int("RAG_RRF_K", 60)
    RAG_VECTOR_WEIGHT: float = BaseConfig._get_env_float("RAG_VECTOR_WEIGHT", 0.5)
    RAG_RERANKER_ENABLED: bool = BaseConfig._get_env_bool("RAG_RERANKER_ENABLED", True)
    RAG_RERANKER_MODEL: str = BaseConfig._get_env(
        "RAG_RERANKER_MODEL", "cross-encoder/ms-marco-MiniLM-L-6-v2"
    )
    RAG_RERANKER_TOP_K_MULTIPLIER: int = BaseConfig._get_env_int("RAG_RERANKER_TOP_K_MULTIPLIER", 3)
    RAG_RERANKER_BATCH_SIZE: int = BaseConfig._get_env_int("RAG_RERANKER_BATCH_SIZE", 32)
    RAG_RERANK_INITIAL_K: int = BaseConfig._get_env_int("RAG_RERANK_INITIAL_K", 20)
    RAG_RERANKER_CACHE_SIZE: int = BaseConfig._get_env_int("RAG_RERANKER_CACHE_SIZE", 1000)
    RAG_REALTIME_INDEXING_ENABLED: bool = BaseConfig._get_env_bool(
        "RAG_REALTIME_INDEXING_ENABLED", True
    )
    RAG_INDEXING_DEBOUNCE_SECONDS: float = BaseConfig._get_env_float(
        "RAG_INDEXING_DEBOUNCE_SECONDS", 5.0
    )
    RAG_INDEXING_BATCH_SIZE: int = BaseConfig._get_env_int("RAG_INDEXING_BATCH_SIZE", 100)
    RAG_INDEXING_QUEUE_SIZE: int = BaseConfig._get_env_int("RAG_INDEXING_QUEUE_SIZE", 1000)
    RAG_QUERY_EXPANSION_ENABLED: bool = BaseConfig._get_env_bool(
        "RAG_QUERY_EXPANSION_ENABLED", True
    )
    RAG_QUERY_EXPANSION: bool = BaseConfig._get_env_bool("RAG_QUERY_EXPANSION", True)
    RAG_QUERY_EXPANSION_TECHNIQUES: list[str] = BaseConfig._get_env_list(
        "RAG_QUERY_EXPANSION_TECHNIQUES", ["synonyms", "hyponyms"]
    )
    RAG_MAX_QUERY_EXPANSIONS: int = BaseConfig._get_env_int("RAG_MAX_QUERY_EXPANSIONS", 3)
    RAG_SUB_QUERY_COUNT: int = BaseConfig._get_env_int("RAG_SUB_QUERY_COUNT", 3)
    USER_PROFILES_ENABLED: bool = BaseConfig._get_env_bool("USER_PROFILES_ENABLED", True)
    USER_PROFILES_PATH: Path = BaseConfig._get_env_path(
        "USER_PROFILES_PATH", "./data/user_profiles"
    )
    USER_PROFILES_AUTO_LEARN: bool = BaseConfig._get_env_bool("USER_PROFILES_AUTO_LEARN", True)
    USER_AFFECTION_ENABLED: bool = BaseConfig._get_env_bool("USER_AFFECTION_ENABLED", True)
    USER_CONTEXT_IN_CHAT: bool = BaseConfig._get_env_bool("USER_CONTEXT_IN_CHAT", True)
    PROFILE_SAVE_INTERVAL_SECONDS: int = BaseConfig._get_env_int(
        "PROFILE_SAVE_INTERVAL_SECONDS", 60
    )
